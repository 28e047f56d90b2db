#!/usr/bin/env bash
# Runs malloc4j's JMH benchmarks side by side with the anchors, then prints a markdown table.
#
#   scripts/bench.sh                     every benchmark, every allocator that loads here, protocol defaults
#   scripts/bench.sh Pair -p size=16,64  any JMH arguments: a benchmark regex, -p, -f, -wi, -i, -w, -r, -prof...
#   scripts/bench.sh -l                  JMH's own listing options (-l, -lp, -lprof, -lrf, -h) run as they are
#   scripts/bench.sh Larson              multi-thread (Larson, Xmalloc): 1, 2 and 4 threads or pairs in one run
#
# Defaults (each one applies only if you did not pass that option): -f 1 -wi 5 -i 5 -w 1s -r 1s -prof gc,
# -rf json -rff reports/bench/jmh-<time>.json, and -p allocator=<every allocator that loads here>.
# An allocator that cannot run here (a missing library, or Netty without Unsafe) is skipped with its reason.
# Tables: scripts/jmh_table.py FILE.json [MORE.json...] prints them again (medians over several runs).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
malloc4j_find_jdk || exit 1
java="$JAVA_HOME/bin/java"

if [ "${1:-}" = "--help" ]; then
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 0
fi

# --- build the JMH uber-jar if it is missing or older than the sources --------------------------------
jar="$root/bench/target/malloc4j-bench.jar"
stale=
if [ ! -f "$jar" ]; then
  stale=yes
elif [ -n "$(find "$root/core/src/main" "$root/anchors/src/main" "$root/bench/src/main" "$root/pom.xml" \
        "$root/core/pom.xml" "$root/anchors/pom.xml" "$root/bench/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ]; then
  stale=yes
fi
if [ -n "$stale" ]; then
  echo "bench: building the benchmark jar (first run or sources changed)..." >&2
  (cd "$root" && ./mvnw -q -B -ntp -pl core,anchors,bench -am package -DskipTests) >&2 || {
    echo "bench: build failed; run './mvnw -pl core,anchors,bench -am package -DskipTests' to see why" >&2
    exit 2
  }
fi

# --- what the anchors need inside a JVM (see docs/benchmarks.md) --------------------------------------
# jemalloc: Debian's libjemalloc.so.2 uses initial-exec TLS, which dlopen into a JVM can only satisfy with more
# optional static TLS; tcmalloc-minimal can crash a JVM when it grows its heap with sbrk. Forks inherit these.
case ":${GLIBC_TUNABLES:-}:" in
  *:glibc.rtld.optional_static_tls=*) ;;
  *) export GLIBC_TUNABLES="${GLIBC_TUNABLES:+$GLIBC_TUNABLES:}glibc.rtld.optional_static_tls=16384" ;;
esac
export TCMALLOC_SKIP_SBRK=true

# --- JMH's listing and help options: run as they are ------------------------------------------------------
for a in "$@"; do
  case "$a" in -l|-lp|-lprof|-lrf|-h) exec "$java" -jar "$jar" "$@" ;; esac
done

# --- probe the allocators under the benchmarks' own JVM flags ----------------------------------------------
mapfile -t flags < <("$java" -cp "$jar" org.malloc4j.bench.Probe --jvm-flags)
ok=()
while read -r status name rest; do
  case "$status" in
    ok) ok+=("$name") ;;
    skip) echo "bench: SKIPPED $name: $rest" >&2 ;;
    info) echo "bench: $name $rest" >&2 ;;
    *) echo "bench: probe: $status $name $rest" >&2 ;;
  esac
done < <("$java" "${flags[@]}" -cp "$jar" org.malloc4j.bench.Probe)
if [ ${#ok[@]} -eq 0 ]; then
  echo "bench: no allocator can run here" >&2
  exit 3
fi

# --- defaults for the options not given -------------------------------------------------------------------
args=("$@")
has() { # has OPTION [VALUE]: whether args hold OPTION (followed by VALUE, if given)
  local i
  for ((i = 0; i < ${#args[@]}; i++)); do
    if [ "${args[i]}" = "$1" ]; then
      [ $# -eq 1 ] && return 0
      [ "${args[i+1]:-}" = "$2" ] && return 0
    fi
  done
  return 1
}
has_param() { # has_param NAME: whether a -p NAME=... was given
  local i
  for ((i = 0; i < ${#args[@]}; i++)); do
    [ "${args[i]}" = "-p" ] && case "${args[i+1]:-}" in "$1"=*) return 0 ;; esac
  done
  return 1
}
extra=()
has -f || extra+=(-f 1)
has -wi || extra+=(-wi 5)
has -i || extra+=(-i 5)
has -w || extra+=(-w 1s)
has -r || extra+=(-r 1s)
has -prof gc || extra+=(-prof gc)
list=
if ! has_param allocator; then
  list=$(IFS=,; echo "${ok[*]}")
fi

# --- allocators a benchmark cannot run ----------------------------------------------------------------------
# XmallocBenchmark frees every block on another thread than the one that allocated it, which a confined Arena
# cannot do (its javadoc says why), so it gets the list without arena. JMH applies -p to every benchmark of a run:
# when the run also selects benchmarks that do take arena, XmallocBenchmark runs in a second JMH run of its own,
# and its JSON is merged into the first one's before the table is made.
cross='XmallocBenchmark'
xlist=
split=
if [ -n "$list" ] && [[ ",$list," == *,arena,* ]]; then
  selected=$("$java" -jar "$jar" -l "${args[@]}" | grep '\.' || true)
  if grep -q "$cross" <<<"$selected"; then
    xlist=$(sed -e 's/^arena,//' -e 's/,arena,/,/' -e 's/,arena$//' <<<"$list")
    echo "bench: arena left out of $cross: a confined Arena can be closed only by the thread that opened it" >&2
    if grep -vq "$cross" <<<"$selected"; then
      split=yes
    else
      list=$xlist
    fi
  fi
fi
[ -z "$list" ] || extra+=(-p "allocator=$list")
result=
if has -rff; then
  for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[i]}" = "-rff" ] && result="${args[i+1]:-}"; done
else
  mkdir -p "$root/reports/bench"
  result="$root/reports/bench/jmh-$(date +%Y%m%d-%H%M%S).json"
  extra+=(-rff "$result")
fi
if has -rf; then
  has -rf json || has -rf JSON || result=   # a format the table cannot read
else
  extra+=(-rf json)
fi
if has -t || has -tg; then
  echo "bench: warning: -t/-tg override the thread counts LarsonBenchmark and XmallocBenchmark set per method" >&2
fi
if has -jvmArgsAppend || has -jvmArgs; then
  echo "bench: warning: -jvmArgs/-jvmArgsAppend replace the benchmarks' @Fork flags; add them back:" \
       "${flags[*]}" >&2
fi

if [ -z "$split" ]; then
  echo "bench: $java -jar $jar ${extra[*]} ${args[*]}" >&2
  "$java" -jar "$jar" "${extra[@]}" "${args[@]}"
else
  swap_rff() { # prints its arguments NUL-separated, the file after -rff renamed NAME.EXT -> NAME-xmalloc.EXT
    local prev= a
    for a in "$@"; do
      if [ "$prev" = "-rff" ]; then
        case "${a##*/}" in *.*) a="${a%.*}-xmalloc.${a##*.}" ;; *) a="$a-xmalloc" ;; esac
      fi
      printf '%s\0' "$a"
      prev=$a
    done
  }
  extra2=() args2=()
  for ((i = 0; i < ${#extra[@]}; i++)); do
    case "${extra[i]}" in allocator=*) extra2+=("allocator=$xlist") ;; *) extra2+=("${extra[i]}") ;; esac
  done
  mapfile -d '' -t extra2 < <(swap_rff "${extra2[@]}")
  mapfile -d '' -t args2 < <(swap_rff "${args[@]}")
  result2=
  [ -z "$result" ] || result2=$(swap_rff -rff "$result" | tr '\0' '\n' | tail -n 1)
  echo "bench: run 1 of 2: $java -jar $jar ${extra[*]} ${args[*]} -e $cross" >&2
  "$java" -jar "$jar" "${extra[@]}" "${args[@]}" -e "$cross"
  echo "bench: run 2 of 2: $java -jar $jar ${extra2[*]} ${args2[*]} -e ^(?!.*$cross)" >&2
  "$java" -jar "$jar" "${extra2[@]}" "${args2[@]}" -e "^(?!.*$cross)"
  if [ -n "$result2" ] && [ -f "$result2" ]; then
    if [ ! -f "$result" ]; then
      mv "$result2" "$result"
    elif command -v python3 >/dev/null 2>&1; then
      python3 -c 'import json, sys
a, b = (json.load(open(f, encoding="utf-8")) for f in sys.argv[1:3])
json.dump(a + b, open(sys.argv[1], "w", encoding="utf-8"), indent=4)' "$result" "$result2" && rm -f "$result2"
    else
      echo "bench: $cross results in $result2 (python3 not found: not merged)" >&2
    fi
  fi
fi

if [ -n "$result" ] && [ -f "$result" ]; then
  table="${result%.json}.md"
  echo
  if command -v python3 >/dev/null 2>&1; then
    python3 "$root/scripts/jmh_table.py" "$result" | tee "$table"
    echo "bench: results in $result, table in $table" >&2
  else
    echo "bench: results in $result (python3 not found: no table; run scripts/jmh_table.py on it elsewhere)" >&2
  fi
fi
