#!/usr/bin/env bash
# Buddy's OpenCL backend on a bare GPU machine (no JDK, no Maven, no network), in one bounded command:
#
#   scripts/gpu-bundle.sh                                  # here: packs .gpu/ (JDK runtime, tests, tiny models)
#   scripts/gpu-remote.sh                                  # there, with .gpu/ and cli/target/buddy.jar copied along
#
# 1. Unpacks the JDK runtime, finds the vendor's OpenCL driver (libnvidia-opencl.so.1 or any registered ICD) and
#    points the carried ICD loader at it; prints nvidia-smi's view and `buddy devices`.
# 2. Runs the opencl module's whole test suite (jqwik properties against scalar references, the transformer against
#    the CPU backend) on the default device, which must be a GPU, with CI=true so that no test may skip.
# 3. Runs scripts/gpu-check.sh: greedy and routed equality with the CPU backend on the two tiny real models, then
#    buddy bench --device opencl on a synthetic SmolLM2-135M Q4_1 (same shapes and bytes as the real file).
# 4. Benches synthetic Llama-3.2-1B Q4_0 and Q8_0 files on the GPU, dense, routed at budget 0.5 and with --profile
#    (device time per kernel against the wall time); then decoding by rows per work-group (GPU_REMOTE_DECODE_ROWS,
#    default "1 2 4 8 16"); then prompt processing by prefill tile (Q4_0: GPU_REMOTE_TILES, default
#    "1x0 2x16 4x16"; Q8_0: 1x0 and 2x16) and batch (96, 512); then, with GPU_REMOTE_CPU=1, on the CPU with every
#    core. `buddy synth` writes the files there in the background while
#    steps 2-3 run.
# Logs and reports go to $OUT (default /tmp/gpu-out); a summary is printed last. Stops after GPU_REMOTE_TIMEOUT
# seconds (default 420). GPU_CHECK_ALLOW_CPU=1 accepts a CPU OpenCL device, to try the script here.
# Exit code: 0 when every step passed, 1 when one failed, 2 when setup failed.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out"
limit=${GPU_REMOTE_TIMEOUT:-420}
deadline=$(( $(date +%s) + limit ))
left() { echo $(( deadline - $(date +%s) )); }
say() { printf '\n== %s (%ss left)\n' "$*" "$(left)"; }
summary=()
record() { summary+=("$1: $2"); }

say "setup"
[[ -f .gpu/jdk.tgz && -f cli/target/buddy.jar ]] || { echo "gpu-remote: .gpu/ or cli/target/buddy.jar missing (run scripts/gpu-bundle.sh and carry both)" >&2; exit 2; }
tar xzf .gpu/jdk.tgz -C /tmp || exit 2
export JAVA_HOME=/tmp/jdk
export BUDDY_TEST_DATA=$PWD/.gpu/shared
nvidia-smi -L 2>&1; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1
driver=""
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/cuda/lib64 \
    /usr/local/cuda/targets/x86_64-linux/lib; do
  for f in "$d"/libnvidia-opencl.so.1 "$d"/libnvidia-opencl.so.*; do
    [[ -f $f ]] && { driver=$f; break 2; }
  done
done
mkdir -p /tmp/icd
if [[ -n $driver ]]; then
  echo "$driver" >/tmp/icd/nvidia.icd
  echo "vendor driver: $driver"
else
  echo "no libnvidia-opencl.so found; registered ICDs: $(ls /etc/OpenCL/vendors 2>&1)"
  find / -xdev -name 'libnvidia-opencl*' 2>/dev/null | head -3
fi
cp /etc/OpenCL/vendors/*.icd /tmp/icd/ 2>/dev/null
export OCL_ICD_VENDORS=/tmp/icd
export LD_LIBRARY_PATH=$PWD/.gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
./buddy devices 2>&1 | grep -v '^WARNING: Using incubator' | tee "$out/devices.txt"
if ! grep -Eq '^\* [0-9]+:[0-9]+  .*  GPU  ' "$out/devices.txt"; then
  [[ ${GPU_CHECK_ALLOW_CPU:-0} == 1 ]] || { echo "gpu-remote: the default OpenCL device is not a GPU" >&2; exit 2; }
  echo "(no GPU: going on with the CPU OpenCL device, as GPU_CHECK_ALLOW_CPU=1 asks)"
fi
record devices "$(grep '^\* ' "$out/devices.txt")"

# Synthetic 1B files are written in the background while the tests run (one core each; there are many).
mkdir -p /tmp/synth
for t in q4_0 q8_0; do
  ./buddy synth --shape llama-3.2-1b --type "$t" -o "/tmp/synth/llama-3.2-1b-$t.gguf" >"$out/synth-$t.log" 2>&1 &
done

say "opencl test suite on the GPU"
cp=$(ls .gpu/test/jars/*.jar | tr '\n' ':').gpu/test/classes:.gpu/test/test-classes
CI=true timeout --kill-after=10 $(( $(left) > 200 ? 200 : $(left) )) "$JAVA_HOME/bin/java" \
  --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx4g -XX:+UseParallelGC -cp "$cp" \
  org.junit.platform.console.ConsoleLauncher execute --scan-class-path .gpu/test/test-classes \
  --include-classname '.*(Test|Tests|Properties)$' --exclude-tag allocation --details=summary \
  --reports-dir "$out/junit" --disable-banner >"$out/tests.log" 2>&1
rc=$?
grep -E 'tests (successful|failed|aborted|skipped|found)|containers failed' "$out/tests.log"
grep -B2 -A12 -E '✘|MethodSource' "$out/tests.log" | head -60
record "opencl tests" "rc=$rc, $(grep -E 'tests successful' "$out/tests.log" | tr -s ' ' | sed 's/^ //;s/[][]//g'), $(grep -E 'tests failed' "$out/tests.log" | tr -s ' ' | sed 's/^ //;s/[][]//g')"

say "gpu-check.sh on a synthetic SmolLM2-135M Q4_1"
./buddy synth --shape smollm2-135m --type q4_1 -o /tmp/synth/smollm2-135m-q4_1.gguf 2>&1 | tail -1
GPU_CHECK_TIMEOUT=$(( $(left) > 150 ? 150 : $(left) )) scripts/gpu-check.sh /tmp/synth/smollm2-135m-q4_1.gguf \
  2>&1 | grep -v '^WARNING: Using incubator' | tee "$out/gpu-check.log"
record gpu-check "rc=${PIPESTATUS[0]}"

wait
bench() {  # bench NAME ARGS...: one buddy bench, markdown rows into the log and the summary
  local name=$1
  shift
  (( $(left) > 30 )) || { record "$name" "skipped (time)"; return; }
  timeout --kill-after=10 $(( $(left) - 10 )) ./buddy bench "$@" -o md 2>"$out/bench-$name.err" >"$out/bench-$name.md"
  record "$name" "$(grep -E '^\| .*(pp|tg)[0-9]' "$out/bench-$name.md" | awk -F'|' '{printf "%s %s; ", $(NF-2), $(NF-1)}')"
}
for t in q4_0 q8_0; do
  f=/tmp/synth/llama-3.2-1b-$t.gguf
  [[ -f $f ]] || { record "1B $t" "no file: $(tail -1 "$out/synth-$t.log")"; continue; }
  say "Llama-3.2-1B $t (synthetic) on the GPU: dense, then routed at b=0.5"
  bench "1b-$t-gpu" -m "$f" -p 512 -n 128 -r 3 --device opencl
  bench "1b-$t-gpu-b0.5" -m "$f" -p 512 -n 128 -r 3 --device opencl --router random --budget 0.5
  # Device time per kernel against the wall time (tables in bench-1b-$t-gpu-profile.err).
  bench "1b-$t-gpu-profile" -m "$f" -p 512 -n 128 -r 3 --device opencl --profile
  grep -A6 '^profile' "$out/bench-1b-$t-gpu-profile.err"
done
# Decoding by rows per matvec_q work-group (DecodeRows: 1 is the GPU default, CPU devices take 16).
f=/tmp/synth/llama-3.2-1b-q4_0.gguf
if [[ -f $f ]]; then
  say "Llama-3.2-1B q4_0 (synthetic) on the GPU: tg128 by decode rows per work-group"
  for rows in ${GPU_REMOTE_DECODE_ROWS:-1 2 4 8 16}; do
    BUDDY_JAVA_OPTS="-Dbuddy.opencl.decode.rows=$rows" bench "1b-q4_0-tg-rows$rows" -m "$f" -p 0 -n 128 -r 3 \
      --device opencl
  done
fi
# Prompt processing by prefill tile (rows x tokens per work-item of matmul_q; 1x0 = one work-group per row and token)
# and prompt batch (96, the CPU's automatic chunk for this shape, or 512, a GPU's: the whole prompt in one pass).
for t in q4_0 q8_0; do
  f=/tmp/synth/llama-3.2-1b-$t.gguf
  [[ -f $f ]] || continue
  say "Llama-3.2-1B $t (synthetic) on the GPU: pp512 by prefill tile and batch"
  tiles=${GPU_REMOTE_TILES:-1x0 2x16 4x16}
  [[ $t == q4_0 ]] || tiles="1x0 2x16"
  for tile in $tiles; do
    for batch in 96 512; do
      BUDDY_JAVA_OPTS="-Dbuddy.opencl.prefill.rows=${tile%x*} -Dbuddy.opencl.prefill.tokens=${tile#*x}" \
        bench "1b-$t-pp-$tile-b$batch" -m "$f" -p 512 -n 0 -r 3 -b "$batch" --device opencl
    done
  done
done
if [[ ${GPU_REMOTE_CPU:-0} == 1 ]]; then
  for t in q4_0 q8_0; do
    f=/tmp/synth/llama-3.2-1b-$t.gguf
    [[ -f $f ]] || continue
    say "Llama-3.2-1B $t (synthetic) on the CPU, $(nproc) threads"
    bench "1b-$t-cpu" -m "$f" -p 512 -n 128 -r 3 -t "$(nproc)"
  done
fi

say "summary"
printf '%s\n' "${summary[@]}" | tee "$out/summary.txt"
grep -q 'rc=[^0]' "$out/summary.txt" && exit 1
exit 0
