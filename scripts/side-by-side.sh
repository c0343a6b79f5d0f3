#!/usr/bin/env bash
# Issue #4's target set, Buddy against llama.cpp b4916 on the same files and threads (BENCHMARKS.md, "Side by side"):
# the Llama-3.2-1B shape in Q4_0, Q8_0 and Q4_K_M, the Qwen2.5-0.5B shape in Q8_0 (random weights from `buddy synth`,
# seed 0) and the real SmolLM2-135M-Instruct Q4_1. Run from the repository root after
# `./mvnw -B -q package -DskipTests`, on a machine doing nothing else: every pair alternates the two engines, and the
# report quotes per-pair ratios and their medians.
#   THREADS (default 2), PP (512), TG (128), PAIRS (3), DIR (where the synthetic files go, default /tmp/buddy-synth),
#   MODELS (default: all five, as shape:type or a path to a .gguf), OUT (report folder, default side-by-side/)
set -euo pipefail

THREADS=${THREADS:-2}
PP=${PP:-512}
TG=${TG:-128}
PAIRS=${PAIRS:-3}
DIR=${DIR:-/tmp/buddy-synth}
OUT=${OUT:-side-by-side}
SHARED=${BUDDY_TEST_DATA:-../shared}
SMOLLM2=$HOME/.cache/buddy/models/SmolLM2-135M-Instruct.Q4_1.gguf
MODELS=${MODELS:-llama-3.2-1b:q4_0 llama-3.2-1b:q8_0 llama-3.2-1b:q4_k_m qwen2.5-0.5b:q8_0 $SMOLLM2}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$here/scripts/find-jdk25.sh"
java_home=$(find_jdk25) || { echo "side-by-side: no JDK 25 found; set JAVA_HOME" >&2; exit 2; }
mkdir -p "$DIR" "$OUT"

for model in $MODELS; do
  if [[ $model == *.gguf ]]; then
    file=$model
    [[ -f $file || $file != "$SMOLLM2" ]] || bash "$SHARED/models/fetch-smollm2.sh"
  else
    shape=${model%%:*}
    type=${model##*:}
    file=$DIR/$shape-$type.gguf
    [[ -f $file ]] || "$here/buddy" synth --shape "$shape" --type "$type" -o "$file"
  fi
  name=$(basename "$file" .gguf)
  echo "== $name: pp$PP tg$TG, $PAIRS pairs, $THREADS threads"
  "$java_home/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -cp "$here/bench/target/benchmarks.jar" dev.buddy.bench.SideBySide -m "$file" -p "$PP" -n "$TG" \
    -r "$PAIRS" -t "$THREADS" --kv-type f16 --buddy-jar "$here/cli/target/buddy.jar" -o "$OUT/$name.md"
done
