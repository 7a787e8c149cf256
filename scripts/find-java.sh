# Sourced by the launcher and CI: sets JAVA_HOME to a JDK >= 25 (JAVA_HOME first, then /usr/lib/jvm), or fails.
java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'
}
find_jdk25() {
  local candidate
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /usr/local/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    local major
    major=$(java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
if ! JAVA_HOME=$(find_jdk25); then
  echo "nemotron4j needs a JDK 25 or newer: set JAVA_HOME to one (none found in JAVA_HOME or /usr/lib/jvm)" >&2
  exit 1
fi
export JAVA_HOME
