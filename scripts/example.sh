#!/usr/bin/env bash
# Builds the examples module if needed, then runs one example on a JDK 25 or newer.
#
#   scripts/example.sh StringTable [COUNT]                        a native string table: malloc, realloc, free
#   scripts/example.sh ProducerConsumer [PRODUCERS CONSUMERS N]   blocks freed by other threads; committed stays bounded
#   scripts/example.sh QsortDowncall [WORD...]                    libc qsort (Java comparator) and strlen via FFM
#
# Sources: examples/src/main/java/org/malloc4j/examples/. Extra JVM options: MALLOC4J_JAVA_OPTS.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
examples=(StringTable ProducerConsumer QsortDowncall)

usage() { sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then usage; [ $# -ge 1 ]; exit $?; fi
name=$1; shift
case " ${examples[*]} " in
  *" $name "*) ;;
  *) echo "example: no example named '$name' (one of: ${examples[*]})" >&2; exit 2 ;;
esac

. "$root/.mvn/find-jdk.sh"
malloc4j_find_jdk || exit 1

classes="$root/examples/target/classes"
core="$root/core/target/classes"
stamp="$root/examples/target/example-built"
stale=
if [ ! -f "$stamp" ] || [ ! -f "$classes/org/malloc4j/examples/$name.class" ] || [ ! -f "$core/org/malloc4j/Heap.class" ]; then
  stale=yes
elif [ -n "$(find "$root/core/src/main" "$root/examples/src/main" "$root/pom.xml" "$root/core/pom.xml" \
        "$root/examples/pom.xml" -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  stale=yes
fi
if [ -n "$stale" ]; then
  echo "example: building core and the examples (first run or sources changed)..." >&2
  (cd "$root" && ./mvnw -q -B -ntp -pl examples -am compile) >&2 || {
    echo "example: build failed; run './mvnw -pl examples -am compile' to see why" >&2
    exit 2
  }
  touch "$stamp"
fi
# On the class path, as the tests run them: the JDK asks for native access (malloc4j's mmap/madvise downcalls, and
# the examples' own downcalls, upcalls and reinterpret), given to the unnamed module here.
exec "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED ${MALLOC4J_JAVA_OPTS:-} \
  -cp "$classes:$core" "org.malloc4j.examples.$name" "$@"
