#!/usr/bin/env bash
# Replays traces on malloc4j and on the native anchors (glibc, jemalloc, mimalloc, tcmalloc), each allocator on
# each trace in a JVM of its own, so that the peak RSS measured is that allocator's alone, and prints a markdown
# table per trace: ns/op and peak RSS per allocator, and malloc4j's ratio to the best native anchor.
#
# Usage: scripts/replay-compare.sh [--repeat N] [--min-time TIME] [--jvms N] [--allocators a,b,...] [--gather MODE] [TRACE...]
#   TRACE          a .rep or .rep.gz file, a directory of them, or the name of a bundled workload
#                  (default: every bundled workload, then ../shared/traces/*.rep.gz when that folder exists)
#   --repeat N     timed passes per run, the fastest counts (default 20: a trace of 100,000 operations passes
#                  in a few milliseconds, and the first passes run before C2 has compiled the replay loop and the
#                  heap's code; with 3 passes malloc4j's ns/op on such a trace varied by 2x between JVMs)
#   --min-time T   and more passes until they add up to T (default 1s): python3-pymalloc's 96,010 operations pass
#                  in 2 ms, and after 20 passes C2 had not finished compiling the heap's paths (27-32 ns/op, against
#                  15-19 after 60 passes)
#   --jvms N       JVMs per allocator and trace; each cell is the median over them (default 1). A JIT's inlining
#                  decisions differ from one JVM to the next, and malloc4j's Java code feels it: its ns/op can vary
#                  by 2x between JVMs where the native anchors vary by 10%.
#   --allocators   which allocators, comma-separated (default malloc4j,glibc,jemalloc,mimalloc,tcmalloc)
#   --gather MODE  malloc4j's page gathering: off (the heap's default), bounded or every-peak (replay --gather)
# Environment: MALLOC4J_JAVA_OPTS, JVM options for every run (default: -Xms1g -Xmx1g -XX:+AlwaysPreTouch). The
# default fixes the Java heap and touches it at start: otherwise the collector grows the young generation while the
# checked pass runs, and the peak RSS rise of every allocator on mawk is 190-230 MiB of Java heap, not its own.
#
# The jar is cli/target/malloc4j-cli.jar, built first when missing. An anchor whose library is missing (or that
# cannot load) is shown as skipped, with the reason. Ratios are malloc4j / best native: below 1 is better.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."   # the repository root: every path below is relative to it

. .mvn/find-jdk.sh
malloc4j_find_jdk || exit 1
java="$JAVA_HOME/bin/java"
jar=cli/target/malloc4j-cli.jar

# What the native anchors need inside a JVM (docs/benchmarks.md, "The machine and the anchors"): set for every run, so all run alike.
export GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384
export TCMALLOC_SKIP_SBRK=true

repeat=20
min_time=1s
jvms=1
gather=()
allocators=malloc4j,glibc,jemalloc,mimalloc,tcmalloc
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat="${2:?--repeat needs a number}"; shift 2 ;;
    --repeat=*) repeat="${1#*=}"; shift ;;
    --min-time) min_time="${2:?--min-time needs a time}"; shift 2 ;;
    --min-time=*) min_time="${1#*=}"; shift ;;
    --allocators) allocators="${2:?--allocators needs a list}"; shift 2 ;;
    --allocators=*) allocators="${1#*=}"; shift ;;
    --jvms) jvms="${2:?--jvms needs a number}"; shift 2 ;;
    --jvms=*) jvms="${1#*=}"; shift ;;
    --gather) gather=(--gather "$2"); shift 2 ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
IFS=, read -r -a alloc_list <<<"$allocators"

if [ ! -f "$jar" ]; then
  echo "replay-compare: building $jar" >&2
  ./mvnw -q -B -ntp -pl cli -am package -DskipTests >&2
fi

median() { # median VALUES...: the middle value of those that are numbers (the lower middle of an even count);
  # "null" (a JVM whose replay failed) is left out, and only nulls give null
  # (grep finds no line when every value is null: its status 1 must not end the script under pipefail)
  printf '%s\n' "$@" | { grep -v '^null$' || true; } | sort -g \
    | awk '{ v[NR] = $0 } END { print NR ? v[int((NR + 1) / 2)] : "null" }'
}

run_cli() { # run_cli ARGS...: the command-line tool in a fresh JVM
  # shellcheck disable=SC2086 # MALLOC4J_JAVA_OPTS is a list of options
  "$java" --enable-native-access=ALL-UNNAMED ${MALLOC4J_JAVA_OPTS--Xms1g -Xmx1g -XX:+AlwaysPreTouch} -jar "$jar" "$@"
}

mapfile -t bundled < <(run_cli replay --list | cut -f1)
case " ${MALLOC4J_JAVA_OPTS--Xms1g -Xmx1g -XX:+AlwaysPreTouch} " in
  *" -XX:+AlwaysPreTouch "*) pretouched=1 ;;
  *) pretouched=0 ;;
esac

# The traces: "w:NAME" for a bundled workload, "f:PATH" for a file; a directory stands for its traces.
traces=()
add_path() {
  if [ -d "$1" ]; then
    local f found=0
    while IFS= read -r f; do traces+=("f:$f"); found=1; done \
      < <(find "$1" -maxdepth 1 -type f \( -name '*.rep' -o -name '*.rep.gz' \) | LC_ALL=C sort)
    [ $found = 1 ] || echo "replay-compare: no *.rep or *.rep.gz in $1" >&2
  else
    traces+=("f:$1")
  fi
}
if [ ${#args[@]} -eq 0 ]; then
  for w in "${bundled[@]}"; do traces+=("w:$w"); done
  [ -d ../shared/traces ] && add_path ../shared/traces
else
  for a in "${args[@]}"; do
    if [ ! -e "$a" ] && printf '%s\n' "${bundled[@]}" | grep -qxF -- "$a"; then traces+=("w:$a"); else add_path "$a"; fi
  done
fi
[ ${#traces[@]} -gt 0 ] || { echo "replay-compare: no trace to replay" >&2; exit 2; }

field() { # field KEY JSON: the raw value of KEY in a flat JSON object (strings without their quotes)
  sed -n "s/.*\"$1\":\(\"\([^\"]*\)\"\|\([^,}]*\)\).*/\2\3/p" <<<"$2"
}
bytes() { # human-readable bytes; "n/a" for null or empty
  awk -v b="$1" 'BEGIN {
    if (b == "" || b == "null") { print "n/a"; exit }
    split("B KiB MiB GiB TiB", u, " "); i = 1
    while (b >= 1023.95 && i < 5) { b /= 1024; i++ }
    if (i == 1) printf "%d B\n", b; else printf "%.1f %s\n", b, u[i] }'
}
decimal() { awk -v x="$1" 'BEGIN { if (x == "" || x == "null") print "n/a"; else printf "%.1f\n", x }'; }
count() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"${1:-0}"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "null" || b == "null" || b + 0 <= 0) print "n/a"; else printf "%.2fx\n", a / b }'; }

errfile=$(mktemp)
trap 'rm -f "$errfile"' EXIT

summary=()
echo "# Replay comparison"
echo
echo "$("$java" -version 2>&1 | head -n1); $(nproc) CPUs; $(date -u +%Y-%m-%dT%H:%MZ); best of at least $repeat timed passes adding up to $min_time or more; JVM options: ${MALLOC4J_JAVA_OPTS--Xms1g -Xmx1g -XX:+AlwaysPreTouch}."
echo "Each cell is the median of $jvms JVM(s) for that allocator and trace. ns/op: timed-pass wall time / ops. Peak RSS: rise of the"
echo "process's resident set (VmHWM) over the checked pass, which writes every byte of every block; for malloc4j, of the run after"
echo "its rehearsal of the trace (1st run RSS: over the rehearsal, with the JIT compilers' work on the heap code; see replay --help);"
[ "$pretouched" = 1 ] && echo "malloc4j's RSS figures include its bookkeeping on the Java heap (peak footprint - peak committed), which a pre-touched"
[ "$pretouched" = 1 ] && echo "Java heap hides from the RSS and a native allocator keeps in the memory it maps."
echo "Ratios are malloc4j / best native anchor (below 1 is better)."

for t in "${traces[@]}"; do
  kind=${t%%:*}; what=${t#*:}
  if [ "$kind" = w ]; then name=$what; target=(-w "$what"); else name=$(basename "$what"); name=${name%.gz}; name=${name%.rep}; target=("$what"); fi
  declare -A ns=() rss=() first=() errs=() note=()
  ops=""; live=""
  for a in "${alloc_list[@]}"; do
    ns_runs=(); rss_runs=(); first_runs=()
    for ((j = 1; j <= jvms; j++)); do
      echo "replay-compare: $name on $a (JVM $j of $jvms)" >&2
      set +e
      extra=()
      [ "$a" = malloc4j ] && extra=("${gather[@]}")
      out=$(run_cli replay --json --repeat "$repeat" --min-time "$min_time" --allocator "$a" ${extra[@]+"${extra[@]}"} "${target[@]}" 2>"$errfile")
      rc=$?
      set -e
      line=$(grep '^{' <<<"$out" | tail -n1 || true)
      if [ -n "$line" ]; then
        # malloc4j's bookkeeping lies on the Java heap, which these JVMs pre-touch: its RSS never shows it, where a
        # native allocator's lies in what it maps. Added here, at least what it was at the footprint's peak.
        meta=0
        fp=$(field peakFootprintBytes "$line"); pc=$(field peakCommittedBytes "$line")
        # (only with a pre-touched Java heap: otherwise the slab arrays' pages show in the RSS already)
        if [ "$a" = malloc4j ] && [ "$pretouched" = 1 ] && [ -n "$fp" ] && [ "$fp" != null ] && [ -n "$pc" ] \
            && [ "$pc" != null ]; then
          meta=$((fp - pc))
        fi
        plus() { if [ -z "$1" ] || [ "$1" = null ]; then echo null; else echo $(($1 + meta)); fi; }
        ns_runs+=("$(field nsPerOp "$line")"); rss_runs+=("$(plus "$(field peakRssBytes "$line")")")
        first_runs+=("$(plus "$(field firstRunRssBytes "$line")")")
        errs[$a]=$(field errors "$line")
        ops=$(field ops "$line"); live=$(field tracePeakLiveBytes "$line")
        [ $rc -eq 0 ] || note[$a]="exit $rc: $(grep -m1 'error:' "$errfile" | sed 's/^malloc4j replay: error: //')"
        [ "${errs[$a]}" = 0 ] || break
      elif [ $rc -eq 2 ]; then
        note[$a]="skipped: $(head -n1 "$errfile" | sed 's/^malloc4j replay: //')"
        break
      else
        note[$a]="failed (exit $rc): $(grep -m1 . "$errfile" || true)"
        break
      fi
    done
    if [ ${#ns_runs[@]} -gt 0 ]; then
      ns[$a]=$(median "${ns_runs[@]}"); rss[$a]=$(median "${rss_runs[@]}"); first[$a]=$(median "${first_runs[@]}")
      [ ${#ns_runs[@]} -eq 1 ] || note[$a]="${note[$a]:-}ns/op of the JVMs: ${ns_runs[*]}"
    fi
  done

  echo
  if [ -n "$ops" ]; then echo "## $name ($(count "$ops") ops, peak live $(bytes "$live"))"; else echo "## $name"; fi
  echo
  echo "| allocator | ns/op | peak RSS | 1st run RSS | errors | note |"
  echo "|---|---:|---:|---:|---:|---|"
  best_ns=""; best_ns_who=""; best_rss=""; best_rss_who=""
  for a in "${alloc_list[@]}"; do
    if [ -n "${ns[$a]:-}" ]; then
      below=0
      # A rise below the trace's peak live bytes (every byte of which the checked pass writes) is not the
      # allocator's footprint: it reused pages resident before the run (glibc is the JVM's own malloc, and keeps
      # what the JVM freed); such a figure is shown, noted, and not taken as the best
      if [ "$a" != malloc4j ] && [ "${rss[$a]}" != null ] && [ -n "$live" ] && [ "${rss[$a]}" -lt "${live%.*}" ]; then
        below=1
        note[$a]="${note[$a]:-}peak RSS below the peak live bytes: pages resident before the run reused; not compared"
      fi
      echo "| $a | $(decimal "${ns[$a]}") | $(bytes "${rss[$a]}") | $(bytes "${first[$a]}") | ${errs[$a]} | ${note[$a]:-} |"
      if [ "$a" != malloc4j ] && [ "${errs[$a]}" = 0 ]; then
        if [ "${ns[$a]}" != null ] && { [ -z "$best_ns" ] || awk -v x="${ns[$a]}" -v y="$best_ns" 'BEGIN { exit !(x < y) }'; }; then
          best_ns=${ns[$a]}; best_ns_who=$a
        fi
        if [ "$below" = 0 ] && [ "${rss[$a]}" != null ] && { [ -z "$best_rss" ] || [ "${rss[$a]}" -lt "$best_rss" ]; }; then
          best_rss=${rss[$a]}; best_rss_who=$a
        fi
      fi
    else
      echo "| $a | | | | | ${note[$a]} |"
    fi
  done
  if [ -n "${ns[malloc4j]:-}" ] && [ -n "$best_ns" ]; then
    r_ns=$(ratio "${ns[malloc4j]}" "$best_ns"); r_rss=$(ratio "${rss[malloc4j]}" "$best_rss")
    r_first=$(ratio "${first[malloc4j]}" "$best_rss")
    echo "| **malloc4j / best native** | **$r_ns** (vs $best_ns_who) | **$r_rss** (vs ${best_rss_who:-n/a}) | $r_first | | |"
    summary+=("| $name | $(decimal "${ns[malloc4j]}") | $(decimal "$best_ns") ($best_ns_who) | $r_ns | $(bytes "${rss[malloc4j]}") | $(bytes "$best_rss") (${best_rss_who:-n/a}) | $r_rss | $(bytes "${first[malloc4j]}") | $r_first |")
  fi
  unset ns rss first errs note
done

if [ ${#summary[@]} -gt 0 ]; then
  echo
  echo "## Summary: malloc4j against the best native anchor per trace"
  echo
  echo "| trace | malloc4j ns/op | best native ns/op | ratio | malloc4j peak RSS | best native peak RSS | ratio | malloc4j 1st run RSS | ratio |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${summary[@]}"
fi
