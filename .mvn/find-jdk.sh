# Sourced by ./mvnw, ./malloc4j and .ci/run: points JAVA_HOME at a JDK 25 or newer.
# Order: an existing JAVA_HOME that is new enough, then the usual JVM folders.
malloc4j_java_feature() { # prints the feature version of the JDK in $1, or 0
  rel="$1/release"
  [ -x "$1/bin/javac" ] && [ -f "$rel" ] || { echo 0; return; }
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel" | head -n1
}
malloc4j_find_jdk() {
  want=25; cand=; v=
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(malloc4j_java_feature "$JAVA_HOME"); [ "${v:-0}" -ge $want ] && return 0
  fi
  for cand in /usr/lib/jvm/* /usr/local/lib/jvm/* /opt/java/* /opt/jdk* "${HOME:-/nonexistent}"/.sdkman/candidates/java/* "${HOME:-/nonexistent}"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$cand" ] || continue
    v=$(malloc4j_java_feature "$cand")
    if [ "${v:-0}" -ge $want ]; then export JAVA_HOME="$cand"; return 0; fi
  done
  echo "malloc4j: no JDK $want or newer found (JAVA_HOME=${JAVA_HOME:-unset}, nothing suitable under /usr/lib/jvm)." >&2
  echo "malloc4j: install a JDK $want+ (for example Temurin $want) or set JAVA_HOME to one." >&2
  return 1
}
