#!/usr/bin/env bash
# The multi-thread scaling run for a many-core machine that has no JDK (the concurrency issue's "16 threads give at
# least 12x one thread"): LarsonBenchmark at 1, 2, 4 ... threads up to twice the cores, the same thread counts in turn
# in one JVM (LarsonScaling), XmallocBenchmark at 1, 2, 4 ... pairs up to the cores (and XmallocInTurn, every
# allocator in turn in one JVM), for malloc4j and the native anchors, in one short run.
#
#   scripts/device-scaling.sh prepare    here: builds target/device/ (the benchmark jar, a jlink'd JDK 25 packed with
#                                        tar -cJ, copies of the anchors' libraries); prints its size (limit 64 MiB)
#   scripts/device-scaling.sh run        there, from the repository root with target/device/ carried over: unpacks
#                                        the JDK, runs the benchmarks, writes summary.md and raw.tar.gz (JMH's JSON
#                                        and text, every tool's output) to $OUT (or reports/device/), both rewritten
#                                        after every step, and prints the summary
#
# Options of `run`, as environment variables: ALLOCATORS (default malloc4j,tcmalloc,mimalloc: the usual best anchors;
# add jemalloc,glibc for the full set, about 1.7x longer), THREADS and PAIRS (default: powers of two up to the cores,
# then twice the cores), JMH_OPTS (default -f 1 -wi 3 -i 3 -w 1s -r 1s), SCALING_ROUNDS and SCALING_MILLIS
# (LarsonScaling's and XmallocInTurn's reported rounds and milliseconds a count: 5 and 500). On 16 cores: about 8
# minutes.
# The summary's "scaling" column is malloc4j's throughput over its own at one thread (one pair).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dev="$root/target/device"

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

prepare() {
  . "$root/.mvn/find-jdk.sh"
  malloc4j_find_jdk || exit 1
  echo "device: building the benchmark jar..." >&2
  (cd "$root" && ./mvnw -q -B -ntp -pl core,anchors,bench -am package -DskipTests) >&2
  rm -rf "$dev" && mkdir -p "$dev/lib"
  cp "$root/bench/target/malloc4j-bench.jar" "$dev/"
  local tmp; tmp=$(mktemp -d)
  # The modules the benchmarks and JMH use (JMH reads the VM's arguments through java.management; Netty and JMH use
  # sun.misc.Unsafe from jdk.unsupported), compressed inside and packed again.
  "$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.unsupported \
    --compress=zip-9 --strip-debug --no-header-files --no-man-pages --output "$tmp/jdk"
  tar -cJf "$dev/jdk.tar.xz" -C "$tmp" jdk
  rm -rf "$tmp"
  for lib in libjemalloc.so.2 libmimalloc.so.2 libtcmalloc_minimal.so.4; do
    if [ -e "/usr/lib/x86_64-linux-gnu/$lib" ]; then
      cp -L "/usr/lib/x86_64-linux-gnu/$lib" "$dev/lib/$lib"
    else
      echo "device: /usr/lib/x86_64-linux-gnu/$lib is missing here; that anchor will be skipped there" >&2
    fi
  done
  find "$dev" -type f -exec du -b {} + | sed "s|$root/||"
  # The 64 MiB hold the working tree that travels (tracked and untracked files git does not ignore) and the carry.
  local carry tree total
  carry=$(du -sb "$dev" | cut -f1)
  tree=$(cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null \
    | awk '{ s += $1 } END { print s + 0 }')
  total=$((carry + tree))
  echo "device: target/device is $((carry / 1024 / 1024)) MiB, the working tree $((tree / 1024 / 1024)) MiB:" \
    "$((total / 1024 / 1024)) MiB to send ($total bytes; the limit is 64 MiB)"
  [ "$total" -lt $((64 * 1024 * 1024)) ] || { echo "device: too large to carry" >&2; exit 1; }
}

powers_to() { # 1 2 4 ... up to $1, then $2 when it is larger
  local n=1 list=""
  while [ "$n" -le "$1" ]; do list="$list $n"; n=$((n * 2)); done
  case " $list " in *" $1 "*) ;; *) list="$list $1" ;; esac
  [ "$2" -gt "$1" ] && list="$list $2"
  echo $list
}

# Unpacks the runtime: with xz where it is installed, else with Python's tarfile (a bare image may lack xz-utils).
unpack() {
  if command -v xz > /dev/null; then
    tar -xJf "$1" -C "$2"
  elif command -v python3 > /dev/null; then
    echo "device: no xz here, unpacking with python3" >&2
    python3 -c 'import sys, tarfile
kw = {"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}
tarfile.open(sys.argv[1]).extractall(sys.argv[2], **kw)' "$1" "$2"
  else
    echo "device: neither xz nor python3 here to unpack $1" >&2; return 1
  fi
}

run() {
  [ -f "$dev/malloc4j-bench.jar" ] && [ -f "$dev/jdk.tar.xz" ] || {
    echo "device: target/device/ is missing or incomplete: run 'scripts/device-scaling.sh prepare' first" >&2; exit 1; }
  # The raw outputs (about 30 files on 16 cores) stay outside $OUT, since the device tool brings back at most 8 files
  # from it: after every step they are packed into $OUT/raw.tar.gz and $OUT/summary.md is rewritten, so that a run
  # stopped by the time limit still returns what it measured.
  local out="${OUT:-$root/reports/device}" jdk="${TMPDIR:-/tmp}/malloc4j-device"
  local raw="$jdk/raw"
  rm -rf "$raw" && mkdir -p "$out" "$jdk" "$raw"
  unpack "$dev/jdk.tar.xz" "$jdk" || { echo "device: the JDK could not be unpacked here (no xz, no python3)" \
    > "$out/summary.md"; exit 1; }
  local java="$jdk/jdk/bin/java" cores; cores=$(nproc)
  local allocators="${ALLOCATORS:-malloc4j,tcmalloc,mimalloc}"
  local threads="${THREADS:-$(powers_to "$cores" $((2 * cores)))}"
  local pairs="${PAIRS:-$(powers_to $((cores / 2 > 0 ? cores / 2 : 1)) "$cores")}"
  read -r -a opts <<< "${JMH_OPTS:--f 1 -wi 3 -i 3 -w 1s -r 1s}"
  # The anchors inside a JVM (see docs/benchmarks.md): jemalloc needs optional static TLS, tcmalloc must not use sbrk.
  export GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384 TCMALLOC_SKIP_SBRK=true
  local props="-Dmalloc4j.anchors.libdir=$dev/lib"
  # Only the allocators that can run here (org.malloc4j.bench.Probe, under the benchmarks' flags), so that every run
  # below gets the same list and the header names what was skipped (XmallocInTurn would skip one it cannot open too).
  local flags status name rest ok="" skipped=""
  mapfile -t flags < <("$java" -cp "$dev/malloc4j-bench.jar" org.malloc4j.bench.Probe --jvm-flags)
  while read -r status name rest; do
    case "$status" in
      ok) ok="$ok${ok:+,}$name" ;;
      skip) echo "device: SKIPPED $name: $rest" >&2; skipped="$skipped; $name ($rest)" ;;
    esac
  done < <("$java" "$props" "${flags[@]}" -cp "$dev/malloc4j-bench.jar" org.malloc4j.bench.Probe ${allocators//,/ } \
    2>&1 | tee "$raw/probe.txt")
  allocators=$ok
  { echo "# malloc4j scaling run, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo; echo "$cores cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)), $(awk '/^MemTotal:/ {printf "%d", $2 / 1048576}' /proc/meminfo) GiB;" \
      "$("$java" -version 2>&1 | head -n1); allocators ${allocators:-none}; JMH ${opts[*]}"
    [ -z "$skipped" ] || { echo; echo "Skipped: ${skipped#; }."; }; } > "$raw/header.md"
  publish() { # summary.md from what has run so far, and every raw file packed in one archive (each replaced whole)
    { cat "$raw/header.md"
      summarize "$raw" "$threads" "$pairs"
      echo; echo "## LarsonScaling: every thread count in turn in one JVM (median of the rounds; ratios to 1 thread)"; echo
      for a in ${allocators//,/ }; do
        grep -h 'median of' "$raw/larson-scaling-$a.txt" 2>/dev/null | sed 's/^/- /' \
          || echo "- $a: no result (not run, or see larson-scaling-$a.txt)"
      done
      echo; echo "## XmallocInTurn: every allocator in turn in one JVM (medians; malloc4j over each per round)"; echo
      for p in $pairs; do
        grep -h 'medians of\|per round' "$raw/xmalloc-inturn-p$p.txt" 2>/dev/null | sed 's/^/- /' \
          || echo "- $p pair(s): no result (not run, or see xmalloc-inturn-p$p.txt)"
      done; } > "$out/summary.md.tmp" && mv -f "$out/summary.md.tmp" "$out/summary.md"
    tar -czf "$out/raw.tar.gz.tmp" -C "$raw" . && mv -f "$out/raw.tar.gz.tmp" "$out/raw.tar.gz"
  }
  publish
  [ -n "$allocators" ] || { echo "device: no allocator can run here" >&2; cat "$out/summary.md"; exit 3; }
  local t p a counts
  for t in $threads; do
    echo "device: LarsonBenchmark, $t thread(s)" >&2
    "$java" -jar "$dev/malloc4j-bench.jar" 'LarsonBenchmark.larson1$' -t "$t" -p allocator="$allocators" \
      "${opts[@]}" -jvmArgsPrepend "$props" -rf json -rff "$raw/larson-t$t.json" > "$raw/larson-t$t.txt" 2>&1 || true
    publish
  done
  # The same operation with every thread count in turn inside one JVM (org.malloc4j.bench.LarsonScaling): a ratio
  # per round, which a JVM's own speed mode does not skew (docs/benchmarks.md, "LarsonBenchmark").
  counts=$(echo $threads | tr ' ' ',')
  for a in ${allocators//,/ }; do
    echo "device: LarsonScaling, $a, threads $counts in turn" >&2
    "$java" "$props" --enable-native-access=ALL-UNNAMED -cp "$dev/malloc4j-bench.jar" org.malloc4j.bench.LarsonScaling \
      "$a" "${SCALING_ROUNDS:-5}" "${SCALING_MILLIS:-500}" "$counts" > "$raw/larson-scaling-$a.txt" 2>&1 || true
    publish
  done
  for p in $pairs; do
    echo "device: XmallocBenchmark, $p pair(s)" >&2
    "$java" -jar "$dev/malloc4j-bench.jar" 'XmallocBenchmark.pairs1$' -tg "$p,$p" -p allocator="$allocators" \
      "${opts[@]}" -jvmArgsPrepend "$props" -rf json -rff "$raw/xmalloc-p$p.json" > "$raw/xmalloc-p$p.txt" 2>&1 || true
    publish
  done
  # The producer/consumer exchange with every allocator in turn inside one JVM (org.malloc4j.bench.XmallocInTurn).
  for p in $pairs; do
    echo "device: XmallocInTurn, $p pair(s), ${allocators//,/ } in turn" >&2
    "$java" "$props" --enable-native-access=ALL-UNNAMED -cp "$dev/malloc4j-bench.jar" org.malloc4j.bench.XmallocInTurn \
      "${SCALING_ROUNDS:-5}" "${SCALING_MILLIS:-500}" "$p" ${allocators//,/ } > "$raw/xmalloc-inturn-p$p.txt" 2>&1 || true
    publish
  done
  cat "$out/summary.md"
}

# One table per benchmark from JMH's text output (no Python needed): the primary score of each allocator (JMH's row
# without a ':' suffix), malloc4j over the best native anchor, and malloc4j's scaling over its own first row.
summarize() {
  local out=$1
  table() { # $1 benchmark label, $2 file prefix, $3 what a row counts, $4 the counts
    echo; echo "## $1 (ops/us, higher is better)"; echo
    echo "| $3 | malloc4j | best native | malloc4j / best native | malloc4j scaling |"
    echo "|---:|---:|---:|---:|---:|"
    local n first=""
    for n in $4; do
      [ -f "$out/$2$n.txt" ] || { echo "| $n | (not run) | | | |"; continue; }
      awk -v n="$n" -v first="$first" '
        $1 ~ /^(Larson|Xmalloc)Benchmark\.(larson1|pairs1)$/ && $3 == "thrpt" {
          # The score is the column before the units, or before "± error units" (no count column at -i 1, no
          # error column at -i 2)
          score = ($(NF - 2) == "±") ? $(NF - 3) : $(NF - 1); name = $2
          if (name == "malloc4j") m = score
          else if (score > best) { best = score; bestName = name }
        }
        END {
          if (m == "") { printf "| %s | (no result: see the .txt) | | | |\n", n; exit }
          b = (best > 0) ? sprintf("%.1f (%s)", best, bestName) : "-"
          r = (best > 0) ? sprintf("%.2f", m / best) : "-"
          s = (first > 0) ? sprintf("%.2fx", m / first) : "1.00x"
          printf "| %s | %.1f | %s | %s | %s |\n", n, m, b, r, s
        }' "$out/$2$n.txt"
      [ -n "$first" ] || first=$(awk '$1 ~ /Benchmark\.(larson1|pairs1)$/ && $3 == "thrpt" && $2 == "malloc4j" {print ($(NF - 2) == "±") ? $(NF - 3) : $(NF - 1)}' "$out/$2$n.txt")
    done
  }
  table "LarsonBenchmark: threads freeing and refilling their own slots" larson-t threads "$2"
  table "XmallocBenchmark: producers allocate, consumers free (a pair is two threads)" xmalloc-p pairs "$3"
}

case "${1:-}" in
  prepare) prepare ;;
  run) run ;;
  -h|--help) usage ;;
  *) usage; exit 2 ;;
esac
