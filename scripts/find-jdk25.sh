# Sourced by ./mvnw, ./buddy and .ci/run. Prints the home of a JDK whose feature version is 25 or newer.
# Order: $JAVA_HOME, then the standard JVM directories (Linux, macOS, SDKMAN).
find_jdk25() {
  local c v
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/* /Library/Java/JavaVirtualMachines/*/Contents/Home "$HOME"/.sdkman/candidates/java/*; do
    [[ -n $c && -x $c/bin/java ]] || continue
    v=$("$c/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    [[ $v =~ ^[0-9]+$ ]] && (( v >= 25 )) && { echo "$c"; return 0; }
  done
  return 1
}
