#!/usr/bin/env bash
# Builds and runs malloc4j's jcstress tests: the cross-thread free handoff (two freers pushing onto one pending stack
# too), the thread-death handoff (with a slab already queued), the lock of the virtual threads' stripes and the
# purger's drain of one, live bytes read while an owner collects, two threads freeing one block of a CHECKED heap at
# once, a quarantine ring's lock-free pushes racing another ring's reclaim of its lease, the stack pool's hand-out
# and give-back, the platform stacks' look for an ended thread's block (racing that thread's end, or a trim), a cache
# registered racing close's forgetThreads, the several-users latch, a shared arena closed while its segments are
# freed, and the table of sampled allocation sites (a lookup racing a removal that shifts entries, or the add that
# grows the table)
# (module jcstress/, built only under the Maven profile "jcstress", so never by the default build).
#
#   scripts/jcstress.sh                  every test in quick mode (-m quick): a few minutes on 2 cores
#   scripts/jcstress.sh -t Adopt         any jcstress options: a test regex (-t), a mode (-m sanity|quick|default|
#   scripts/jcstress.sh -m tough -f 5    tough|stress), forks (-f), -v, -time/-iters, -c CPUs; -h lists them all
#
# Defaults: -m quick unless you pass -m (or -time/-iters), results under jcstress/target/runs/<time>/.
# Exit status: 0 when every test passed; jcstress's non-zero status when a test observed a FORBIDDEN outcome or
# errored (the report names the test and the outcome; the bits of the last result are decoded in
# jcstress/src/main/java/org/malloc4j/internal/small/Fixture.java); 2 when the build failed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/.mvn/find-jdk.sh"
malloc4j_find_jdk || exit 1
java="$JAVA_HOME/bin/java"

if [ "${1:-}" = "--help" ]; then
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 0
fi

echo "jcstress: building jcstress/target/jcstress.jar..." >&2
(cd "$root" && ./mvnw -q -B -ntp -P jcstress -pl jcstress -am package -DskipTests) >&2 || {
  echo "jcstress: build failed; run './mvnw -P jcstress -pl jcstress -am package -DskipTests' to see why" >&2
  exit 2
}
jar="$root/jcstress/target/jcstress.jar"

args=("$@")
mode_given=
for a in "$@"; do
  case "$a" in -m|-time|-iters|-h|--help|-l|-list) mode_given=yes ;; esac
done
[ -n "$mode_given" ] || args=(-m quick "${args[@]}")

# jcstress writes its binary log into the working directory and its report under -r: keep both in one run folder.
run="$root/jcstress/target/runs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$run"
echo "jcstress: java $("$java" -version 2>&1 | head -n1); results in $run" >&2
cd "$run"
set +e
"$java" --enable-native-access=ALL-UNNAMED -jar "$jar" -r "$run/results" "${args[@]}"
rc=$?
set -e
if [ $rc -eq 0 ]; then
  echo "jcstress: all tests passed (report: $run/results/index.html)" >&2
else
  echo "jcstress: FAILED with status $rc (report: $run/results/index.html)" >&2
fi
exit $rc
