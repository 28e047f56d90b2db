#!/usr/bin/env python3
"""Turns JMH JSON results (scripts/bench.sh writes them) into markdown tables for docs/benchmarks.md.

    python3 scripts/jmh_table.py RESULT.json [MORE.json ...] [--errors]

One table per benchmark method; one row per parameter set other than `allocator`; one column per allocator
(ns/op, lower is better). Given several result files (repeated runs), every cell is the median of the runs'
scores, as the benchmark protocol asks. Extra columns: malloc4j's Java-heap garbage per op (gc.alloc.rate.norm,
present when the run used -prof gc), and malloc4j's time divided by the best native anchor's
(glibc/jemalloc/mimalloc/tcmalloc) and by the best Netty allocator's: below 1.00 means malloc4j is faster.
A cell marked * had, in at least one run, a 99.9% confidence interval wider than +-25% of its score: noisy, rerun.

Throughput benchmarks (JMH mode thrpt: the multi-thread LarsonBenchmark and XmallocBenchmark) are scores, not
times: higher is better. Their methods that differ only by a trailing thread count (larson1, larson2, larson4;
the groups pairs1, pairs2, pairs4) make one table with a `threads` column (JMH's thread count for the run: for
a producer/consumer group, producers plus consumers); the ratio columns are malloc4j's throughput divided by the
best one's, so that above 1.00 means malloc4j is faster; and a last column gives malloc4j's scaling, its
throughput divided by its own at the smallest thread count in the table.
"""
import json
import re
import statistics
import sys

ORDER = ["malloc4j", "glibc", "jemalloc", "mimalloc", "tcmalloc", "nettyPooled", "nettyAdaptive", "arena"]
NATIVE = ["glibc", "jemalloc", "mimalloc", "tcmalloc"]
NETTY = ["nettyPooled", "nettyAdaptive"]
NOISY = 0.25
GC_NORM = ("gc.alloc.rate.norm", "\u00b7gc.alloc.rate.norm")


def human_size(v):
    try:
        n = int(v)
    except ValueError:
        return v
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if n >= (1 << shift) and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"


def row_key(params):
    """Sort rows numerically where the parameter values are numbers."""
    out = []
    for k, v in sorted(params.items()):
        try:
            out.append((k, 0, float(v), ""))
        except ValueError:
            out.append((k, 1, 0.0, v))
    return out


def num(x):
    """A JMH number, or None (JMH writes "NaN" as a string when there is no error estimate)."""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if x != x else x


def fmt(x, digits=1):
    if x is None:
        return "-"
    if x != 0 and abs(x) < 0.05:
        return f"{x:.3f}"
    return f"{x:.{digits}f}"


def main(argv):
    if not argv or "-h" in argv or "--help" in argv:
        print(__doc__.strip())
        return 0 if argv else 2
    show_errors = "--errors" in argv
    files = [a for a in argv if a != "--errors"]
    for f in files:
        try:
            open(f, encoding="utf-8").close()
        except OSError as e:
            print(f"jmh_table.py: cannot read {f}: {e.strerror}", file=sys.stderr)
            return 2
    if not files:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    # (benchmark, frozen params) -> allocator -> list of (score, error, gc_norm)
    cells = {}
    units = {}
    modes = {}
    meta = None
    for path in files:
        with open(path, encoding="utf-8") as f:
            runs = json.load(f)
        for r in runs:
            if meta is None:
                meta = r
            bench = r["benchmark"].rsplit(".", 2)
            bench = ".".join(bench[-2:])
            params = dict(r.get("params") or {})
            alloc = params.pop("allocator", "-")
            if r.get("mode") == "thrpt":
                # larson1/larson2/larson4 -> one table LarsonBenchmark.larson, a row per thread count
                bench = re.sub(r"\d+$", "", bench)
                params["threads"] = str(r.get("threads", "?"))
            modes[bench] = r.get("mode")
            pm = r["primaryMetric"]
            sec = r.get("secondaryMetrics") or {}
            norm = next((sec[k]["score"] for k in GC_NORM if k in sec), None)
            key = (bench, tuple(sorted(params.items())))
            cells.setdefault(key, {}).setdefault(alloc, []).append((num(pm["score"]), num(pm.get("scoreError")), num(norm)))
            units[bench] = pm["scoreUnit"]
    if meta is None:
        print("no results in " + ", ".join(files), file=sys.stderr)
        return 1

    n = len(files)
    noisy = False
    print(f"JMH {meta.get('jmhVersion', '?')}, {meta.get('vmName', '?')} {meta.get('vmVersion', '?')} "
          f"(JDK {meta.get('jdkVersion', '?')}); mode {', '.join(sorted({m for m in modes.values() if m}))}, "
          f"forks {meta.get('forks')}, "
          f"warmup {meta.get('warmupIterations')} x {meta.get('warmupTime')}, "
          f"measurement {meta.get('measurementIterations')} x {meta.get('measurementTime')}; "
          + (f"median of {n} runs." if n > 1 else "one run.") + "\n")

    for bench in sorted({k[0] for k in cells}):
        keys = sorted((k for k in cells if k[0] == bench), key=lambda k: row_key(dict(k[1])))
        allocs = [a for a in ORDER if any(a in cells[k] for k in keys)]
        allocs += sorted({a for k in keys for a in cells[k]} - set(ORDER))
        pnames = sorted({p for k in keys for p, _ in k[1]})
        higher = modes.get(bench) == "thrpt"  # a throughput: higher is better
        scaling = higher and "threads" in pnames
        base = {}  # the other params -> malloc4j's median at the smallest thread count
        if scaling:
            for k in keys:
                m = cells[k].get("malloc4j")
                if not m:
                    continue
                p = dict(k[1])
                t = int(p.pop("threads"))
                rest = tuple(sorted(p.items()))
                if rest not in base or t < base[rest][0]:
                    base[rest] = (t, statistics.median(v[0] for v in m))
            lows = sorted({t for t, _ in base.values()})
        print(f"### {bench} ({units[bench]}, {'higher' if higher else 'lower'} is better)\n")
        if higher:
            header = pnames + allocs + ["malloc4j B/op", "malloc4j / best native (>1: malloc4j faster)",
                                        "malloc4j / best Netty (>1: malloc4j faster)"]
            if scaling:
                header.append("malloc4j scaling (x its " + "/".join(map(str, lows)) + "-thread score)")
        else:
            header = pnames + allocs + ["malloc4j B/op", "malloc4j / best native", "malloc4j / best Netty"]
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] * len(pnames) + ["---:"] * (len(header) - len(pnames))) + "|")
        for k in keys:
            row = [human_size(v) if p == "size" else v for p, v in k[1]]
            med = {}
            for a in allocs:
                vals = cells[k].get(a)
                if not vals:
                    row.append("skipped")
                    continue
                score = statistics.median(v[0] for v in vals)
                med[a] = score
                cell = fmt(score)
                if any(v[1] is not None and v[0] and v[1] / v[0] > NOISY for v in vals):
                    cell += "*"
                    noisy = True
                if show_errors and n == 1 and vals[0][1] is not None:
                    cell += f" ±{fmt(vals[0][1])}"
                row.append(cell)
            m = cells[k].get("malloc4j")
            norms = [v[2] for v in (m or []) if v[2] is not None]
            row.append(fmt(statistics.median(norms), 2) if norms else "-")
            for group in (NATIVE, NETTY):
                present = [(med[a], a) for a in group if a in med and med[a]]
                if "malloc4j" in med and present:
                    best, who = max(present) if higher else min(present)
                    row.append(f"{med['malloc4j'] / best:.2f} ({who})")
                else:
                    row.append("-")
            if scaling:
                p = dict(k[1])
                p.pop("threads")
                b = base.get(tuple(sorted(p.items())))
                row.append(f"{med['malloc4j'] / b[1]:.2f}" if "malloc4j" in med and b and b[1] else "-")
            print("| " + " | ".join(row) + " |")
        print()
    if noisy:
        print(f"\\* noisy: the 99.9% confidence interval is wider than \u00b1{NOISY:.0%} of the score in at least one run.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
