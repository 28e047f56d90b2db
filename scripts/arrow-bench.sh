#!/usr/bin/env bash
# The Apache Arrow workload (arrow module, org.malloc4j.arrow.bench.ArrowWorkload) on three allocation managers:
# malloc4j (Malloc4jAllocationManager.FACTORY, the global heap), Arrow's Unsafe one and Arrow's Netty one. Each
# manager runs in a JVM of its own, --reps times (interleaved: malloc4j, unsafe, netty, malloc4j, ...); each JVM
# runs the workload --warmup times unmeasured, then --runs times. Prints a markdown table per batch size: the median
# over the JVMs of each JVM's median time per run, and of its peak RSS (VmHWM), with malloc4j's ratios.
#
#   scripts/arrow-bench.sh                                 defaults: --reps 3 --runs 5 --warmup 2 --rows 3000000
#                                                          --batch-rows 250000,3000000
#   scripts/arrow-bench.sh --reps 1 --batch-rows 250000    one quick pass
#
# One run: fill a VectorSchemaRoot (int id, UTF-8 name) batch by batch with setSafe, write each batch with
# ArrowStreamWriter to memory, read the stream back with ArrowStreamReader, check every value, close everything.
# Logs: reports/arrow-bench/<time>/<manager>-<batch rows>-<rep>.log
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
malloc4j_find_jdk || exit 1
java="$JAVA_HOME/bin/java"

reps=3 runs=5 warmup=2 rows=3000000 batches=250000,3000000
managers=(malloc4j unsafe netty)
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --reps) reps=${2-}; shift $(($# > 1 ? 2 : 1)) ;;
    --runs) runs=${2-}; shift $(($# > 1 ? 2 : 1)) ;;
    --warmup) warmup=${2-}; shift $(($# > 1 ? 2 : 1)) ;;
    --rows) rows=${2-}; shift $(($# > 1 ? 2 : 1)) ;;
    --batch-rows) batches=${2-}; shift $(($# > 1 ? 2 : 1)) ;;
    *) echo "arrow-bench: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
# Each count a whole number (--warmup may be 0); --batch-rows a comma-separated list of them
for opt in reps:$reps runs:$runs warmup:$warmup rows:$rows; do
  name=${opt%%:*} value=${opt#*:}
  if ! [[ $value =~ ^[0-9]+$ ]] || { [ "$name" != warmup ] && [ "$value" -eq 0 ]; }; then
    echo "arrow-bench: --$name needs a whole number$([ "$name" = warmup ] && echo ' (0 or more)' || echo ' above 0')," \
        "not '$value'" >&2
    exit 2
  fi
done
if ! [[ $batches =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]]; then
  echo "arrow-bench: --batch-rows needs row counts above 0, separated by commas, not '$batches'" >&2; exit 2
fi

# --- build: the module and its test classes (the workload lives there, with its test-only dependencies) ---
echo "arrow-bench: building the arrow module..." >&2
(cd "$root" && ./mvnw -q -B -ntp -pl arrow -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test) >&2 || {
  echo "arrow-bench: build failed; run './mvnw -pl arrow -am test-compile' to see why" >&2
  exit 2
}
cp="$root/arrow/target/test-classes:$root/arrow/target/classes:$(cat "$root/arrow/target/bench.classpath")"

# --- JVM flags --------------------------------------------------------------------------------------------
# Every manager: malloc4j's FFM access; Arrow's own needs on Java 25 (java.nio opened for ArrowBuf.nioBuffer(),
# which the IPC writer uses; sun.misc.Unsafe's memory methods, which every ArrowBuf access uses, without a
# warning); the same fixed Java heap, touched at start (AlwaysPreTouch), so that the Java heap is all in the RSS
# before the first run and the peak's growth over that baseline is native memory (plus the JIT's code and data).
common=(--enable-native-access=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
        --sun-misc-unsafe-memory-access=allow -Xms1g -Xmx1g -XX:+AlwaysPreTouch)
# Netty only (the same settings as the JMH benchmarks' BenchFlags, see docs/benchmarks.md): its Unsafe path,
# which Netty 4.2 turns off on Java 25 by default and arrow-memory-netty needs; direct memory without a Cleaner;
# thread caches for every thread, not only event loops; no leak-detection sampling.
netty=(-Dio.netty.noUnsafe=false -Dio.netty.tryReflectionSetAccessible=true
       -Dio.netty.allocator.useCacheForAllThreads=true -Dio.netty.leakDetection.level=disabled)

out="$root/reports/arrow-bench/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
results="$out/results.txt"
: > "$results"
echo "arrow-bench: $("$java" -version 2>&1 | head -n1); $(nproc) CPUs; logs in ${out#$root/}" >&2

IFS=, read -r -a batch_list <<< "$batches"
for b in "${batch_list[@]}"; do
  for rep in $(seq 1 "$reps"); do
    for m in "${managers[@]}"; do
      flags=("${common[@]}")
      [ "$m" = netty ] && flags+=("${netty[@]}")
      log="$out/$m-$b-$rep.log"
      if ! "$java" "${flags[@]}" -cp "$cp" org.malloc4j.arrow.bench.ArrowWorkload --manager "$m" \
          --runs "$runs" --warmup "$warmup" --rows "$rows" --batch-rows "$b" > "$log" 2>&1; then
        echo "arrow-bench: $m failed (batch rows $b, rep $rep); see $log" >&2
        tail -n 20 "$log" >&2
        exit 1
      fi
      line=$(grep '^RESULT ' "$log")
      echo "$line batch_rows=$b rep=$rep" >> "$results"
      echo "arrow-bench: batch rows $b, rep $rep: $line" >&2
    done
  done
done
grep -h '^netty:' "$out"/netty-*.log | sort -u >&2 || true

python3 - "$results" "$rows" "$runs" "$warmup" "$reps" <<'EOF'
import statistics, sys
path, rows, runs, warmup, reps = sys.argv[1:]
res = {}
for line in open(path):
    kv = dict(f.split("=", 1) for f in line.split()[1:])
    res.setdefault((int(kv["batch_rows"]), kv["manager"]), []).append(kv)
med = lambda xs: statistics.median(xs)
for b in sorted({k[0] for k in res}):
    peak = max(int(x["arrow_peak_bytes"]) for k, xs in res.items() if k[0] == b for x in xs) / 1048576
    print(f"\n{rows} rows in batches of {b} (Arrow's peak allocation {peak:.0f} MiB); median of {reps} JVMs per "
          f"manager, each the median of {runs} runs after {warmup} warmup runs")
    print()
    print("| manager | time per run (ms) | malloc4j speed ratio (>1: malloc4j faster) | peak RSS, VmHWM (MiB) "
          "| VmHWM - RSS before the first run (MiB) | malloc4j RSS ratio on that growth (>1: malloc4j smaller) |")
    print("|---|---:|---:|---:|---:|---:|")
    row = {}
    for m in ("malloc4j", "unsafe", "netty"):
        if (b, m) not in res: continue
        xs = res[(b, m)]
        t = med([float(x["median_ms"]) for x in xs])
        hwm = med([int(x["vmhwm_kb"]) for x in xs]) / 1024
        grow = med([int(x["vmhwm_kb"]) - int(x["baseline_kb"]) for x in xs]) / 1024
        row[m] = (t, hwm, grow)
    base = row.get("malloc4j")
    for m, (t, hwm, grow) in row.items():
        sr = "1" if m == "malloc4j" else f"{t / base[0]:.2f}" if base else "-"
        rr = "1" if m == "malloc4j" else f"{grow / base[2]:.2f}" if base else "-"
        print(f"| {m} | {t:.0f} | {sr} | {hwm:.0f} | {grow:.0f} | {rr} |")
EOF
