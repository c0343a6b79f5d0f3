#!/usr/bin/env bash
# Packs what scripts/gpu-remote.sh needs on a bare GPU machine that has neither a JDK nor Maven nor network access:
#
#   scripts/gpu-bundle.sh        (here, after ./mvnw -B -q install -DskipTests)
#
# Writes .gpu/ (git-ignored), about 36 MiB:
#   jdk.tgz            a jlink'ed JDK 25 runtime (java.base, java.logging, java.management, java.xml,
#                      jdk.incubator.vector, jdk.management, jdk.unsupported: no java.desktop, so eval's PNG plot is
#                      the one thing it cannot do)
#   lib/libOpenCL.so.1 this machine's ICD loader (ocl-icd), for a machine whose driver ships no loader
#   shared/models/     the two tiny real models the OpenCL tests and gpu-check.sh compare on, and the GPT-2
#                      vocabulary that `buddy synth` builds synthetic models from
#   test/              the opencl module's compiled tests and main classes, the jars they run against, and JUnit's
#                      console launcher (junit-platform-console-standalone, fetched into ~/.m2 when missing)
# cli/target/buddy.jar travels beside it (name both .gpu and cli/target/buddy.jar in the device call's carry).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/find-jdk25.sh
java_home=$(find_jdk25) || { echo "gpu-bundle: no JDK 25 found" >&2; exit 2; }
shared=${BUDDY_TEST_DATA:-../shared}
junit=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
platform=1.${junit#5.}   # JUnit 5.x.y ships platform 1.x.y
console=$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$platform/junit-platform-console-standalone-$platform.jar

for f in cli/target/buddy.jar opencl/target/classes opencl/target/test-classes; do
  [[ -e $f ]] || { echo "gpu-bundle: $f is missing; run ./mvnw -B -q install -DskipTests first" >&2; exit 2; }
done
if [[ ! -f $console ]]; then
  ./mvnw -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$platform"
fi

rm -rf .gpu.tmp
mkdir -p .gpu.tmp/lib .gpu.tmp/shared/models/tokenizer-tests .gpu.tmp/test/jars
"$java_home/bin/jlink" --add-modules java.base,java.logging,java.management,java.xml,jdk.incubator.vector,jdk.management,jdk.unsupported \
  --compress zip-9 --strip-debug --no-header-files --no-man-pages --output .gpu.tmp/jdk 2>/dev/null
tar czf .gpu.tmp/jdk.tgz -C .gpu.tmp jdk
rm -rf .gpu.tmp/jdk

loader=$(ldconfig -p | sed -n 's/.*libOpenCL.so.1 (libc6,x86-64) => //p' | head -1)
[[ -n $loader ]] || { echo "gpu-bundle: no libOpenCL.so.1 here to carry (apt-get install ocl-icd-libopencl1)" >&2; exit 2; }
cp -L "$loader" .gpu.tmp/lib/libOpenCL.so.1

for m in stories260K.gguf TinyStories-656K-Q8_0.gguf tokenizer-tests/ggml-vocab-gpt-2.gguf; do
  cp "$shared/models/$m" ".gpu.tmp/shared/models/$m"
done

# The opencl module's test classpath as Maven resolves it, minus the JUnit jars the console launcher already holds.
./mvnw -B -q -o dependency:build-classpath -pl opencl -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/.gpu.tmp/cp"
tr ':' '\n' <.gpu.tmp/cp | grep -v -e '/org/junit/' -e '/opentest4j/' -e '/apiguardian/' | while read -r jar; do
  cp "$jar" .gpu.tmp/test/jars/
done
rm .gpu.tmp/cp
cp "$console" .gpu.tmp/test/jars/
cp -r opencl/target/classes .gpu.tmp/test/classes
cp -r opencl/target/test-classes .gpu.tmp/test/test-classes

rm -rf .gpu
mv .gpu.tmp .gpu
du -sh .gpu cli/target/buddy.jar
