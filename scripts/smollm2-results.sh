#!/usr/bin/env bash
# Reproduces RESULTS.md on SmolLM2-135M-Instruct (Q4_1): static baselines, the BUDDY router, evaluation, ablations.
# Run from the repository root after `./mvnw -B -q package -DskipTests`, with ../shared beside the checkout.
# Every step is a plain `./buddy` command; outputs go to $OUT (default results-run/). Budget about 4-6 CPU-hours on
# two cores; LIMIT (examples per task) and PPL_TOKENS scale it. The figures in RESULTS.md used the defaults below.
set -euo pipefail

MODEL=${MODEL:-$HOME/.cache/buddy/models/SmolLM2-135M-Instruct.Q4_1.gguf}
SHARED=${BUDDY_TEST_DATA:-../shared}
OUT=${OUT:-results-run}
LIMIT=${LIMIT:-20}
PPL_TOKENS=${PPL_TOKENS:-1024}
THREADS=${THREADS:-1}
BUDGETS=0.875,0.75,0.625,0.5

[[ -f $MODEL ]] || bash "$SHARED/models/fetch-smollm2.sh"
mkdir -p "$OUT"

# Calibration text: the last 256 KiB of WikiText-2 raw test, so that it never overlaps the first PPL_TOKENS tokens
# that the evaluation scores (only the test split is shipped in ../shared).
CALIB=$OUT/wiki-test-tail.txt
tail -c 262144 "$SHARED/datasets/wikitext/wikitext-2-raw/wiki.test.raw" > "$CALIB"

# Static baselines (one ranking each; written as router-format plans).
./buddy prune -m "$MODEL" --method shortgpt --calib "$CALIB" --calib-tokens 256 -t "$THREADS" -o "$OUT/plan-shortgpt.gguf"
./buddy prune -m "$MODEL" --method ppl --calib "$CALIB" --calib-tokens 256 -t "$THREADS" -o "$OUT/plan-ppl.gguf"
./buddy prune -m "$MODEL" --method sleb --calib "$CALIB" --calib-tokens 128 --window 128 --max-drop 15 \
  -t "$THREADS" -o "$OUT/plan-sleb.gguf"
./buddy prior -m "$MODEL" --method taylor --calib "$CALIB" --calib-tokens 4096 -t "$THREADS" -o "$OUT/plan-prior.gguf"

# The BUDDY router: Taylor prior on the calibration text, output layer zero-initialised (starts as prior-only),
# 100 steps of 8 Alpaca examples (800 of the 5,000), every example at its own budget from the paper's set.
# The run was stopped at its step-100 checkpoint; --steps 400 sets the learning-rate schedule it ran under.
./buddy train-router -m "$MODEL" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --steps 400 --lr 1e-3 \
  --warmup 20 --batch 8 --max-tokens 256 --prior taylor --prior-data "$CALIB" --prior-sequences 16 --init prior \
  --seed 42 -t "$THREADS" -o "$OUT/buddy.router.gguf" &
TRAIN=$!
while [[ ! -f $OUT/buddy.router.gguf.ckpt ]] && kill -0 "$TRAIN" 2>/dev/null; do sleep 10; done
kill "$TRAIN" 2>/dev/null || true
wait "$TRAIN" 2>/dev/null || true

# A second router from the ΔPPL prior (RESULTS.md, "A second router"), 40 steps.
./buddy prior -m "$MODEL" --method ppl --calib "$CALIB" --calib-tokens 256 -t "$THREADS" -o "$OUT/prior-dppl.gguf"
./buddy train-router -m "$MODEL" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --steps 40 --lr 1e-3 --warmup 5 \
  --batch 8 --max-tokens 256 --prior "$OUT/prior-dppl.gguf" --init prior --seed 42 -t "$THREADS" \
  -o "$OUT/buddy-dppl.router.gguf"

# A third router from the SLEB-order prior (RESULTS.md, "A third router"): SLEB's removal order as the prior, so the
# untrained router (--init prior) is exactly SLEB's plan; held-out selection on the last 64 KiB of WikiText-2 test
# (never scored: the evaluation scores the first PPL_TOKENS tokens; the calibration windows are the first tokens of
# the last 256 KiB). The run was stopped after its step-SLEB_STEPS scoring; --steps 60 sets its schedule.
SLEB_STEPS=${SLEB_STEPS:-10}
VAL=$OUT/wiki-test-val.txt
tail -c 65536 "$SHARED/datasets/wikitext/wikitext-2-raw/wiki.test.raw" > "$VAL"
./buddy prior -m "$MODEL" --method sleb --sleb-plan "$OUT/plan-sleb.gguf" --calib "$CALIB" --calib-tokens 128 \
  --window 128 -t "$THREADS" -o "$OUT/prior-sleb.gguf"
./buddy train-router -m "$MODEL" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --steps 60 --lr 1e-3 --warmup 5 \
  --batch 8 --max-tokens 256 --prior "$OUT/prior-sleb.gguf" --init prior --seed 42 --checkpoint-every 5 \
  --val "$VAL" --val-every 10 --val-tokens 512 -t "$THREADS" -o "$OUT/buddy-sleb.router.gguf" \
  2> "$OUT/buddy-sleb.train.err" &
TRAIN=$!
while kill -0 "$TRAIN" 2>/dev/null && ! grep -q "validation at step $SLEB_STEPS:" "$OUT/buddy-sleb.train.err" 2>/dev/null; do
  sleep 10
done 2>/dev/null
kill "$TRAIN" 2>/dev/null || true
wait "$TRAIN" 2>/dev/null || true

EVAL=(./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --tasks paper --limit "$LIMIT" --ppl wikitext2
      --ppl-tokens "$PPL_TOKENS" -t "$THREADS")
# Static plans route the same way per token and per prompt, so they run in the faster prefill mode.
"${EVAL[@]}" --router "$OUT/plan-shortgpt.gguf,$OUT/plan-ppl.gguf" --budgets $BUDGETS --routing prefill -o "$OUT/static-a"
"${EVAL[@]}" --router "$OUT/plan-sleb.gguf" --budgets $BUDGETS --routing prefill --no-dense -o "$OUT/sleb"
"${EVAL[@]}" --router "$OUT/plan-prior.gguf" --budgets $BUDGETS --routing prefill --no-dense -o "$OUT/prior"
# BUDDY: causal per-token rerouting (the default), and the paper's reuse ablation (the prompt's route is kept).
"${EVAL[@]}" --router "$OUT/buddy.router.gguf" --budgets $BUDGETS --no-dense -o "$OUT/buddy"
"${EVAL[@]}" --router "$OUT/buddy.router.gguf" --budgets $BUDGETS --routing prefill --no-dense -o "$OUT/buddy-reuse"
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/buddy-dppl.router.gguf,$OUT/prior-dppl.gguf" \
  --budgets $BUDGETS --tasks none --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" -o "$OUT/buddy-dppl"
# The SLEB-prior router kept by held-out selection, and SLEB re-measured with the same code (prefill; see RESULTS.md).
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/buddy-sleb.router.best.gguf" \
  --budgets $BUDGETS --tasks none --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" -o "$OUT/buddy-sleb"
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/plan-sleb.gguf" --budgets $BUDGETS \
  --routing prefill --tasks none --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" -o "$OUT/sleb-ppl"
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/buddy-sleb.router.best.gguf" --budgets $BUDGETS \
  --tasks paper --limit "$LIMIT" --ppl none --no-dense -t "$THREADS" -o "$OUT/buddy-sleb-acc"
# Skipped-KV policy ablation (perplexity only).
for policy in mask compute-kv; do
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/buddy.router.gguf" --budgets 0.875,0.75,0.5 \
    --kv-policy $policy --tasks none --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" \
    -o "$OUT/buddy-$policy"
done

./buddy eval-merge -o "$OUT/merged" "$OUT/static-a/summary.json" "$OUT/sleb/summary.json" "$OUT/prior/summary.json" \
  "$OUT/buddy/summary.json" "$OUT/buddy-reuse/summary.json:buddy=buddy-reuse"

# A fourth router (RESULTS.md, "A fourth router"): SLEB on 256 calibration tokens, its order as the prior, 20 steps
# with held-out selection every 5 (the kept router was step 0, i.e. the plan itself).
./buddy prune -m "$MODEL" --method sleb --calib "$CALIB" --calib-tokens 256 --window 256 --max-drop 15 -t "$THREADS" \
  -o "$OUT/plan-sleb256.gguf"
./buddy prior -m "$MODEL" --method sleb --sleb-plan "$OUT/plan-sleb256.gguf" --calib "$CALIB" --calib-tokens 256 \
  --window 256 -t "$THREADS" -o "$OUT/prior-sleb256.gguf"
./buddy train-router -m "$MODEL" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --steps 20 --lr 1e-3 --warmup 5 \
  --batch 8 --max-tokens 256 --prior "$OUT/prior-sleb256.gguf" --init prior --seed 42 --checkpoint-every 5 \
  --val "$VAL" --val-every 5 --val-tokens 512 -t "$THREADS" -o "$OUT/buddy-sleb256.router.gguf"
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" \
  --router "$OUT/buddy-sleb256.router.best.gguf,$OUT/plan-sleb256.gguf,$OUT/plan-ppl.gguf,$OUT/plan-shortgpt.gguf" \
  --budgets $BUDGETS --routing prefill --tasks none --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense \
  -t "$THREADS" -o "$OUT/sleb256-ppl"

# BUDDY with LoRA against the best static plan with the same LoRA (RESULTS.md, "LoRA for both"): the same run
# twice from the SLEB-256 prior, rank-8 adapters on every projection; --lr 0 freezes the router, so the second run is
# SLEB-256's plan with LoRA. Held-out selection (router and adapters together) every 10 steps.
for run in buddy-lora:1e-3 sleb-lora:0; do
  name=${run%%:*}
  ./buddy train-router -m "$MODEL" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --steps 60 --warmup 5 \
    --batch 8 --max-tokens 256 --prior "$OUT/prior-sleb256.gguf" --init prior --seed 42 --lora 8 --lora-lr 1e-3 \
    --lr "${run##*:}" --checkpoint-every 10 --val "$VAL" --val-every 10 --val-tokens 512 -t "$THREADS" \
    -o "$OUT/$name.router.gguf"
  routing=per-token; [[ $name == sleb-lora ]] && routing=prefill   # a frozen prior-only router is a static plan
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/$name.router.best.gguf" \
    --lora "$OUT/$name.router.best.lora.gguf" --budgets $BUDGETS --routing $routing --tasks none --ppl wikitext2 \
    --ppl-tokens "$PPL_TOKENS" -t "$THREADS" -o "$OUT/$name-ppl"
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/$name.router.best.gguf" \
    --lora "$OUT/$name.router.best.lora.gguf" --budgets $BUDGETS --routing $routing --tasks paper --limit "$LIMIT" \
    --ppl none --no-dense -t "$THREADS" -o "$OUT/$name-acc"
done

# LoRA for the other static plans (RESULTS.md, "LoRA for every static plan", session 11): ShortGPT's and dPPL's
# orders as priors (cosine and dppl priors on the same 256 calibration tokens rank exactly as those plans), the router
# frozen (--lr 0), the same adapters, data, schedule and selection as sleb-lora above. And BUDDY + LoRA again from the
# SLEB-256 start with a router rate of 3e-4 instead of 1e-3 and 1,024 held-out tokens instead of 512.
./buddy prior -m "$MODEL" --method cosine --calib "$CALIB" --calib-tokens 256 -t "$THREADS" -o "$OUT/prior-cosine.gguf"
./buddy prior -m "$MODEL" --method ppl --calib "$CALIB" --calib-tokens 256 -t "$THREADS" -o "$OUT/prior-ppl.gguf"
# Session 14 ("One prior for every budget"): SLEB-256's order with block 13 moved to fourth place, so its first four
# removals are ShortGPT's set (b = 0.875) and its first 7, 11 and 15 SLEB-256's (0.75, 0.625, 0.5); BUDDY + LoRA
# from it (router lr 3e-4) and the same prior frozen (its prior-only plan + LoRA, the baseline it starts from).
./buddy prior -m "$MODEL" --from "$OUT/prior-sleb256.gguf" --removal-order 12,14,17,13,4,26 -o "$OUT/prior-composed.gguf"
for spec in shortgpt-lora:prior-cosine:0:512:prefill buddy-lora-lr3e-4:prior-sleb256:3e-4:1024:per-token \
    ppl-lora:prior-ppl:0:512:prefill sleb256-lora-1024:prior-sleb256:0:1024:prefill \
    buddy-composed-lora:prior-composed:3e-4:1024:per-token composed-lora:prior-composed:0:1024:prefill \
    buddy-composed-lora-lr1e-4:prior-composed:1e-4:1024:per-token; do
  IFS=: read -r name prior lr val routing <<< "$spec"
  ./buddy train-router -m "$MODEL" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --steps 60 --warmup 5 \
    --batch 8 --max-tokens 256 --prior "$OUT/$prior.gguf" --init prior --seed 42 --lora 8 --lora-lr 1e-3 --lr "$lr" \
    --checkpoint-every 10 --val "$VAL" --val-every 10 --val-tokens "$val" -t "$THREADS" -o "$OUT/$name.router.gguf"
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/$name.router.best.gguf" \
    --lora "$OUT/$name.router.best.lora.gguf" --budgets $BUDGETS --routing "$routing" --tasks none --ppl wikitext2 \
    --ppl-tokens "$PPL_TOKENS" -t "$THREADS" -o "$OUT/$name-ppl"
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/$name.router.best.gguf" \
    --lora "$OUT/$name.router.best.lora.gguf" --budgets $BUDGETS --routing "$routing" --tasks paper --limit "$LIMIT" \
    --ppl none -t "$THREADS" -o "$OUT/$name-acc"
done
# BUDDY + LoRA from ShortGPT's order (RESULTS.md, "BUDDY + LoRA from ShortGPT's order", session 12): the
# buddy-lora-lr3e-4 run with the cosine prior instead of SLEB-256's; perplexity only.
./buddy train-router -m "$MODEL" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --steps 60 --warmup 5 \
  --batch 8 --max-tokens 256 --prior "$OUT/prior-cosine.gguf" --init prior --seed 42 --lora 8 --lora-lr 1e-3 \
  --lr 3e-4 --checkpoint-every 10 --val "$VAL" --val-every 10 --val-tokens 1024 -t "$THREADS" \
  -o "$OUT/buddy-cos-lora.router.gguf"
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/buddy-cos-lora.router.best.gguf" \
  --lora "$OUT/buddy-cos-lora.router.best.lora.gguf" --budgets $BUDGETS --routing per-token --tasks none \
  --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" -t "$THREADS" -o "$OUT/buddy-cos-lora-ppl"
# One prior for every budget (RESULTS.md, "One prior for every budget", session 14; trained and evaluated in the
# loop above and the acc60 loop below): the router/adapter swaps and the routing modes.
for swap in buddy-composed-lora:composed-lora:per-token composed-lora:buddy-composed-lora:prefill \
    buddy-composed-lora-lr1e-4:composed-lora:per-token; do
  IFS=: read -r router adapters routing <<< "$swap"
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/$router.router.best.gguf" \
    --lora "$OUT/$adapters.router.best.lora.gguf" --budgets $BUDGETS --routing "$routing" --tasks none \
    --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" -o "$OUT/swap-$router"
done
for mode in prefill:zeros per-token:mask per-token:compute-kv; do
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/buddy-composed-lora.router.best.gguf" \
    --lora "$OUT/buddy-composed-lora.router.best.lora.gguf" --budgets $BUDGETS --routing "${mode%%:*}" \
    --kv-policy "${mode##*:}" --tasks none --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" \
    -o "$OUT/buddy-composed-${mode%%:*}-${mode##*:}"
done
# The closest runs (sessions 11 and 14) on the first 60 examples of each task.
for spec in sleb256-lora-1024:prefill buddy-lora-lr3e-4:per-token buddy-composed-lora:per-token composed-lora:prefill \
    buddy-composed-lora-lr1e-4:per-token; do
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/${spec%%:*}.router.best.gguf" \
    --lora "$OUT/${spec%%:*}.router.best.lora.gguf" --budgets $BUDGETS --routing "${spec##*:}" --tasks paper \
    --limit 60 --ppl none --no-dense -t "$THREADS" -o "$OUT/${spec%%:*}-acc60"
done

# Session 17 ("Measured gate gradients"): the router alone from the composed prior, with the analytic gate slopes
# (--secant 0) and with the measured loss change of switching the 2 blocks each side of the cut (--secant 2), and the
# latter at lr 1e-2; then BUDDY + LoRA with --secant 2 (router lr 1e-3), evaluated per token.
for spec in slope:0:1e-3 secant:2:1e-3 secant-lr1e-2:2:1e-2; do
  IFS=: read -r name secant lr <<< "$spec"
  ./buddy train-router -m "$MODEL" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --steps 60 --warmup 5 \
    --batch 8 --max-tokens 256 --prior "$OUT/prior-composed.gguf" --init prior --seed 42 --lr "$lr" \
    --secant "$secant" --checkpoint-every 10 --val "$VAL" --val-every 10 --val-tokens 512 -t "$THREADS" \
    -o "$OUT/$name.router.gguf"
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/$name.router.best.gguf" --budgets $BUDGETS \
    --routing per-token --tasks none --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" \
    -o "$OUT/$name-ppl"
done
# The secant router's b = 0.5 set (block 7 removed instead of block 20) as a static plan, frozen, with the same LoRA.
./buddy prior -m "$MODEL" --from "$OUT/prior-composed.gguf" --removal-order 12,14,17,13,4,26,5,3,16,18,15,19,25,6,7 \
  -o "$OUT/prior-swap.gguf"
merge=()
for spec in secant-lora:prior-composed:1e-3:2:per-token:buddy-secant-lora swap-lora:prior-swap:0:0:prefill:swap-lora; do
  IFS=: read -r name prior lr secant routing label <<< "$spec"
  ./buddy train-router -m "$MODEL" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --steps 60 --warmup 5 \
    --batch 8 --max-tokens 256 --prior "$OUT/$prior.gguf" --init prior --seed 42 --lora 8 --lora-lr 1e-3 \
    --lr "$lr" --secant "$secant" --checkpoint-every 10 --val "$VAL" --val-every 10 --val-tokens 1024 \
    -t "$THREADS" -o "$OUT/$name.router.gguf"
  for what in "--tasks none --ppl wikitext2 --ppl-tokens $PPL_TOKENS:ppl" "--tasks paper --limit $LIMIT --ppl none:acc"; do
    ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/$name.router.best.gguf" \
      --lora "$OUT/$name.router.best.lora.gguf" --budgets $BUDGETS --routing "$routing" ${what%%:*} --no-dense \
      -t "$THREADS" -o "$OUT/$name-${what##*:}"
    merge+=("$OUT/$name-${what##*:}/summary.json:buddy=$label")
  done
done
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/secant-lora.router.best.gguf" \
  --lora "$OUT/secant-lora.router.best.lora.gguf" --budgets $BUDGETS --routing per-token --tasks paper --limit 60 \
  --ppl none --no-dense -t "$THREADS" -o "$OUT/secant-lora-acc60"
# summary.json gains buddy-secant, buddy-secant-lora and swap-lora (the plot step below draws the LoRA ones).
./buddy eval-merge -o "$OUT/merged-17" results/smollm2-135m/summary.json "$OUT/secant-ppl/summary.json:buddy=buddy-secant" \
  "${merge[@]}"

# Session 18 ("Is there anything to route?"): the committed swap plan's route and its 16 swaps at the cut on 200
# Alpaca examples the routers never trained on (from example 1000), two-fold; no training. Each run ~12 min at -t 2.
for b in 0.75 0.625 0.5; do
  ./buddy route-oracle -m "$MODEL" -r results/routers/smollm2-135m-instruct-q4_1.swap.prior.gguf \
    --data "$SHARED/datasets/alpaca/alpaca_5000.json" --skip 1000 --examples 200 --budget "$b" \
    --table "$OUT/route-oracle-$b.tsv" -t "$THREADS"
done
# The same on WikiText-2 test paragraphs at b = 0.5 (every token scored; about 18 min at -t 2).
./buddy route-oracle -m "$MODEL" -r results/routers/smollm2-135m-instruct-q4_1.swap.prior.gguf \
  --data "$SHARED/datasets/wikitext/wikitext-2-raw/wiki.test.raw" --skip 100 --examples 200 --budget 0.5 \
  --table "$OUT/route-oracle-wiki-0.5.tsv" -t "$THREADS"
# Session 19 ("Per token"): the same oracle per token at b = 0.75, each choice also run causally, once per KV policy
# (35-50 min each at -t 2, most of it the causal passes).
./buddy route-oracle -m "$MODEL" -r results/routers/smollm2-135m-instruct-q4_1.swap.prior.gguf \
  --data "$SHARED/datasets/alpaca/alpaca_5000.json" --skip 1000 --examples 200 --budget 0.75 \
  --token-neighbours 25,100,400,1000 --kv-policy zeros --token-table "$OUT/route-oracle-tokens-0.75.tsv" -t "$THREADS"
./buddy route-oracle -m "$MODEL" -r results/routers/smollm2-135m-instruct-q4_1.swap.prior.gguf \
  --data "$SHARED/datasets/alpaca/alpaca_5000.json" --skip 1000 --examples 200 --budget 0.75 \
  --token-neighbours 100,400 --kv-policy compute-kv -t "$THREADS"

# Session 20 ("A router that routes per token"): the per-token oracle at every budget on 100 held-out Alpaca examples
# (7-9 min each at -t 2), one Decision Module with last pooling fitted to all four (45 s), evaluated per token under
# both KV policies, in reuse mode, and next to its starting plan (7 min each at -t 2).
SWAP=results/routers/smollm2-135m-instruct-q4_1.swap.prior.gguf
for b in 0.75 0.5 0.875 0.625; do
  ./buddy route-oracle -m "$MODEL" -r "$SWAP" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --skip 1000 \
    --examples 100 --budget "$b" --token-neighbours none --no-causal --token-data "$OUT/tok-$b.bin" -t "$THREADS"
done
ALPACA="$OUT/tok-0.875.bin,$OUT/tok-0.75.bin,$OUT/tok-0.625.bin,$OUT/tok-0.5.bin"
./buddy route-oracle -m "$MODEL" -r "$SWAP" --fit-from "$ALPACA" \
  --save-router "$OUT/buddy-token.router.gguf"      # = results/routers/smollm2-135m-instruct-q4_1.buddy-token.router.gguf
for policy in compute-kv zeros; do
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/buddy-token.router.gguf" --budgets $BUDGETS \
    --routing per-token --kv-policy "$policy" --tasks paper --limit "$LIMIT" --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" \
    --no-dense -t "$THREADS" -o "$OUT/token-$policy"
done
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/buddy-token.router.gguf" --budgets $BUDGETS \
  --routing prefill --kv-policy compute-kv --tasks paper --limit "$LIMIT" --ppl none --no-dense -t "$THREADS" \
  -o "$OUT/token-reuse"
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$SWAP" --budgets $BUDGETS --routing prefill \
  --tasks paper --limit "$LIMIT" --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" -o "$OUT/swap-plan"
# The b = 0.5 and 0.625 accuracies again on 60 examples per task, the router and its starting plan.
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/buddy-token.router.gguf" --budgets 0.5,0.625 \
  --routing per-token --kv-policy compute-kv --tasks paper --limit 60 --ppl none --no-dense -t "$THREADS" \
  -o "$OUT/token-acc60"
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$SWAP" --budgets 0.5,0.625 --routing prefill \
  --tasks paper --limit 60 --ppl none --no-dense -t "$THREADS" -o "$OUT/swap-acc60"
# The same oracle on 60 WikiText-2 test paragraphs after the first 100 (the evaluation scores the first 1,024 tokens),
# a router fitted on them alone and one on Alpaca and WikiText together (= ...buddy-token-mixed.router.gguf).
for b in 0.5 0.75 0.875 0.625; do
  ./buddy route-oracle -m "$MODEL" -r "$SWAP" --data "$SHARED/datasets/wikitext/wikitext-2-raw/wiki.test.raw" \
    --skip 100 --examples 60 --budget "$b" --token-neighbours none --no-causal --token-data "$OUT/wiki-$b.bin" \
    -t "$THREADS"
done
WIKI="$OUT/wiki-0.875.bin,$OUT/wiki-0.75.bin,$OUT/wiki-0.625.bin,$OUT/wiki-0.5.bin"
./buddy route-oracle -m "$MODEL" -r "$SWAP" --fit-from "$WIKI" --save-router "$OUT/buddy-token-wiki.router.gguf"
./buddy route-oracle -m "$MODEL" -r "$SWAP" --fit-from "$ALPACA,$WIKI" \
  --save-router "$OUT/buddy-token-mixed.router.gguf"
# A per-token router evaluated as every router of these blocks: compute-kv, tasks and WikiText-2, into token-NAME.
eval_token_router() {
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/buddy-token-$1.router.gguf" \
    --budgets $BUDGETS --routing per-token --kv-policy compute-kv --tasks paper --limit "$LIMIT" --ppl wikitext2 \
    --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" -o "$OUT/token-$1"
}
eval_token_router wiki
eval_token_router mixed
# summary.json: "buddy" becomes the per-token router fitted on Alpaca; the SLEB-order router it replaces stays as
# "buddy-sleb" (its Budget Predictor's "auto" with it).
./buddy eval-merge -o "$OUT/merged-20" results/smollm2-135m/summary.json:buddy=buddy-sleb \
  "$OUT/swap-plan/summary.json:prior=swap" "$OUT/token-compute-kv/summary.json" \
  "$OUT/token-zeros/summary.json:buddy=buddy-token-zeros" "$OUT/token-reuse/summary.json:buddy=buddy-token-reuse" \
  "$OUT/token-mixed/summary.json:buddy=buddy-token-mixed" "$OUT/token-wiki/summary.json:buddy=buddy-token-wiki"

# Session 21 ("Task-style fitting data and a compute-matched control"): 304 documents in the tasks' own format, 38 per
# task from rows 201-238 of each .mc.jsonl (the evaluation reads rows 1-20, or 1-60), each the context, a space and the
# gold choice (WinoGrande: the gold option's context and the continuation), interleaved task by task, every token
# scored; the per-token oracle on them at every budget (11-16 min each at -t 2); routers fitted on them alone and on
# all three sets.
TASKDOCS=$OUT/task-docs.txt
for f in arc/arc_easy arc/arc_challenge piqa/piqa hellaswag/hellaswag winogrande/winogrande boolq/boolq \
    openbookqa/openbookqa siqa/siqa; do
  sed -n '201,238p' "$SHARED/datasets/$f.mc.jsonl" | jq -c 'if has("contexts") then .contexts[.label] + " " +
    .continuation else .context + " " + .choices[.label] end' > "$OUT/task-docs.$(basename "$f").txt"
done
paste -d '\n' "$OUT"/task-docs.{arc_easy,arc_challenge,piqa,hellaswag,winogrande,boolq,openbookqa,siqa}.txt \
  | jq -r '., "<|endoftext|>"' > "$TASKDOCS"
for b in 0.5 0.75 0.875 0.625; do
  ./buddy route-oracle -m "$MODEL" -r "$SWAP" --data "$TASKDOCS" --examples 304 --budget "$b" --token-neighbours none \
    --no-causal --token-data "$OUT/task-$b.bin" -t "$THREADS"
done
TASK="$OUT/task-0.875.bin,$OUT/task-0.75.bin,$OUT/task-0.625.bin,$OUT/task-0.5.bin"
./buddy route-oracle -m "$MODEL" -r "$SWAP" --fit-from "$TASK" --save-router "$OUT/buddy-token-task.router.gguf"
./buddy route-oracle -m "$MODEL" -r "$SWAP" --fit-from "$ALPACA,$WIKI,$TASK" \
  --save-router "$OUT/buddy-token-all.router.gguf"
eval_token_router task
eval_token_router all
# The compute-matched control: the swap plan with one block more than each budget (27, 24, 20 and 16 of 30 blocks,
# +3.3% of the model, against compute-kv's +0.8-3.1%), and its perplexity at every depth in between.
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$SWAP" --budgets drop3,drop6,drop10,drop14 \
  --routing prefill --tasks paper --limit "$LIMIT" --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense \
  -t "$THREADS" -o "$OUT/swap-plus1"
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$SWAP" \
  --budgets drop2,drop4,drop5,drop7,drop8,drop9,drop11,drop12,drop13 --routing prefill --tasks none --ppl wikitext2 \
  --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" -o "$OUT/swap-sweep"
# Every static plan at 60 examples per task at b = 0.5 and 0.625 (the Alpaca-fitted router and the swap plan were run
# at 60 in session 20), and the swap plan with one block more at b = 0.5.
for b in 0.5 0.625; do
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" \
    --router "$OUT/plan-shortgpt.gguf,$OUT/plan-ppl.gguf,$OUT/plan-sleb.gguf,$OUT/plan-sleb256.gguf,$OUT/plan-prior.gguf" \
    --budgets "$b" --routing prefill --tasks paper --limit 60 --ppl none --no-dense -t "$THREADS" -o "$OUT/static-acc60-$b"
done
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$SWAP" --budgets drop14 --routing prefill \
  --tasks paper --limit 60 --ppl none --no-dense -t "$THREADS" -o "$OUT/swap-plus1-acc60"
./buddy eval-merge -o "$OUT/merged-21" results/smollm2-135m/summary.json \
  "$OUT/token-task/summary.json:buddy=buddy-token-task" "$OUT/token-all/summary.json:buddy=buddy-token-all" \
  "$OUT/swap-plus1/summary.json:prior=swap-plus1"

# Session 22 ("How much of compute-kv's work is read"): the committed per-token routers on WikiText-2 alone; results.md's
# "Block paths" table now gives the skipped slots (what compute-kv projects) and those a later token of the same
# sequence runs (the floor for a policy that knew the future). Then every method's accuracy at 60 examples per task
# and every budget, all eight methods in one run per budget.
for r in token token-mixed; do
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "results/routers/smollm2-135m-instruct-q4_1.buddy-$r.router.gguf" \
    --budgets $BUDGETS --routing per-token --kv-policy compute-kv --tasks none --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" \
    --no-dense -t "$THREADS" -o "$OUT/kv-read-$r"
done
# All eight methods in one run per budget, so that results.md's paired differences compare them question by question
# (the static plans run per token too: their masks are the same at every token, so their outcomes are those of
# --routing prefill). Links give the reports short method labels (buddy:alpaca, buddy:mixed, prior:swap).
ln -sf "$PWD/results/routers/smollm2-135m-instruct-q4_1.buddy-token.router.gguf" "$OUT/alpaca.gguf"
ln -sf "$PWD/results/routers/smollm2-135m-instruct-q4_1.buddy-token-mixed.router.gguf" "$OUT/mixed.gguf"
ln -sf "$PWD/$SWAP" "$OUT/swap.gguf"
for b in 0.875 0.75 0.625 0.5; do
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" \
    --router "$OUT/alpaca.gguf,$OUT/mixed.gguf,$OUT/swap.gguf,$OUT/plan-shortgpt.gguf,$OUT/plan-ppl.gguf,$OUT/plan-sleb.gguf,$OUT/plan-sleb256.gguf,$OUT/plan-prior.gguf" \
    --budgets "$b" --routing per-token --kv-policy compute-kv --tasks paper --limit 60 --ppl none --no-dense \
    -t "$THREADS" -o "$OUT/paired-$b"
done

# paired150 NAME B:PLAN,PLAN... : the Alpaca router and those plans at budget B, first 150 per task -> $OUT/NAME-B
paired150() {
  local name=$1 run b routers plans plan
  shift
  for run in "$@"; do
    b=${run%%:*}
    routers=$OUT/alpaca.gguf
    IFS=, read -ra plans <<< "${run#*:}"
    for plan in "${plans[@]}"; do routers+=",$OUT/$plan.gguf"; done
    ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$routers" \
      --budgets "$b" --routing per-token --kv-policy compute-kv --tasks paper --limit 150 --ppl none --no-dense \
      -t "$THREADS" -o "$OUT/$name-$b"
  done
}

# Sessions 23 and 24 (RESULTS.md, "The two budgets where BUDDY trails" and "The other two budgets"): the Alpaca
# per-token router against the static plans that beat it or came closest at 60 examples, paired question by question
# on the first 150 of each task, one run per budget (the swap plan is SLEB-256's plan at b = 0.625).
paired150 paired150 0.875:plan-shortgpt,plan-sleb256 0.75:plan-shortgpt,plan-sleb256 0.5:swap,plan-shortgpt,plan-sleb \
  0.625:swap,plan-shortgpt,plan-sleb

# Session 31 (RESULTS.md, "Every static baseline on 150 examples per task"): the static plans sessions 23-24 left
# out at 150 examples per task. BUDDY goes first in --router so that each run's results.md pairs every plan with it
# question by question (the session ran the plans alone and paired them with sessions 23-24's per-question outcomes
# in results.json, which a deterministic evaluation makes the same thing).
paired150 rest150 0.875:plan-ppl,plan-prior,plan-sleb 0.75:plan-ppl,plan-prior,plan-sleb 0.625:plan-ppl,plan-prior \
  0.5:plan-ppl,plan-prior,plan-sleb256

# Session 32 (RESULTS.md, "summary.json on 150 examples per task"): dense, every static plan and the Alpaca router on
# the first 150 examples of each task, merged into summary.json (perplexities kept from the old file), and the plot
# of those seven methods.
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router none --tasks paper --limit 150 --ppl none -t "$THREADS" \
  -o "$OUT/s32-dense-150"
for plan in shortgpt ppl sleb sleb256 prior; do
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/plan-$plan.gguf" --budgets $BUDGETS \
    --routing prefill --tasks paper --limit 150 --ppl none --no-dense -t "$THREADS" -o "$OUT/s32-$plan-150"
done
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/alpaca.gguf" --budgets $BUDGETS \
  --routing per-token --kv-policy compute-kv --tasks paper --limit 150 --ppl none --no-dense -t "$THREADS" \
  -o "$OUT/s32-buddy150"
./buddy eval-merge -o "$OUT/merged-32" results/smollm2-135m/summary.json "$OUT/s32-dense-150/summary.json" \
  "$OUT/s32-buddy150/summary.json" "$OUT/s32-shortgpt-150/summary.json" "$OUT/s32-ppl-150/summary.json" \
  "$OUT/s32-sleb-150/summary.json" "$OUT/s32-sleb256-150/summary.json:sleb=sleb256" "$OUT/s32-prior-150/summary.json"
python3 - "$OUT/merged-32/summary.json" "$OUT/static150.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d['methods'] = {m: d['methods'][m] for m in ['dense', 'buddy', 'shortgpt', 'ppl', 'sleb', 'sleb256', 'prior']}
json.dump(d, open(sys.argv[2], 'w'), indent=1)
PY
./buddy eval-merge -o "$OUT/plot-150" "$OUT/static150.json"   # -> results/smollm2-135m/accuracy_compute.*

# Session 33 (RESULTS.md, "500 examples per task at the two budgets where BUDDY trailed, and perplexity on 8,192
# tokens"): the Alpaca router against the plans that led it at b = 0.875 and 0.75 (by the 8-task mean and without
# BoolQ), paired question by question on the first 500 examples of each task (OpenBookQA has 500 in all); then
# WikiText-2 perplexity on its first 8,192 test tokens for dense, every static plan and the router at every budget.
ln -sf "$PWD/$SWAP" "$OUT/swap.gguf"
for run in 0.875:plan-sleb256,plan-ppl 0.75:plan-shortgpt,plan-sleb; do
  b=${run%%:*}; routers=$OUT/alpaca.gguf
  IFS=, read -ra plans <<< "${run#*:}"
  for plan in "${plans[@]}"; do routers+=",$OUT/$plan.gguf"; done
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$routers" --budgets "$b" --routing per-token \
    --kv-policy compute-kv --tasks paper --limit 500 --ppl none --no-dense -t "$THREADS" -o "$OUT/s33-paired500-$b"
done
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" \
  --router "$OUT/plan-shortgpt.gguf,$OUT/plan-ppl.gguf,$OUT/plan-sleb.gguf,$OUT/plan-sleb256.gguf,$OUT/plan-prior.gguf,$OUT/swap.gguf" \
  --budgets $BUDGETS --routing prefill --tasks none --ppl wikitext2 --ppl-tokens 8192 -t "$THREADS" -o "$OUT/s33-ppl8k-plans"
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/alpaca.gguf" --budgets $BUDGETS --routing per-token \
  --kv-policy compute-kv --tasks none --ppl wikitext2 --ppl-tokens 8192 --no-dense -t "$THREADS" -o "$OUT/s33-ppl8k-buddy"
# Merged into summary.json: the 8,192-token perplexities replace the 1,024-token ones of these methods (the other
# entries keep theirs). The two runs were made with a jar from before summary.json's wikitext_tokens field, so it is
# added from their results.json first (tokens_scored, 8,191); a run with this build writes it itself.
python3 - "$OUT/s33-ppl8k-plans" "$OUT/s33-ppl8k-buddy" <<'PY'
import json, sys
for run in sys.argv[1:]:
    tokens = {(r['method'], r['budget']): r['perplexity']['wikitext2']['tokens_scored']
              for r in json.load(open(run + '/results.json'))['results']}
    s = json.load(open(run + '/summary.json'))
    for m, budgets in s['methods'].items():
        for b, e in budgets.items():
            e.setdefault('wikitext_tokens', tokens[(m, b)])
    json.dump(s, open(run + '/summary.json', 'w'), indent=1)
PY
./buddy eval-merge -o "$OUT/merged-33" results/smollm2-135m/summary.json \
  "$OUT/s33-ppl8k-plans/summary.json:sleb:plan-sleb=sleb,sleb:plan-sleb256=sleb256,prior:plan-prior=prior,prior:swap=swap" \
  "$OUT/s33-ppl8k-buddy/summary.json"   # -> results/smollm2-135m/summary.json and results.md

# Session 34 (RESULTS.md, "500 examples per task at b = 0.625 and 0.5"): the same paired runs at the two budgets
# where BUDDY led on 150 examples per task, against the plans that led there (SLEB and SLEB-256). SLEB at b = 0.5 ran
# on its own afterwards; the evaluation is deterministic, so it pairs with BUDDY's outcomes of the run before.
for run in 0.625:alpaca,plan-sleb,plan-sleb256 0.5:alpaca,plan-sleb256 0.5-sleb:plan-sleb; do
  name=${run%%:*}; b=${name%-*}; routers=
  IFS=, read -ra files <<< "${run#*:}"
  for f in "${files[@]}"; do routers+="${routers:+,}$OUT/$f.gguf"; done
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$routers" --budgets "$b" --routing per-token \
    --kv-policy compute-kv --tasks paper --limit 500 --ppl none --no-dense -t "$THREADS" -o "$OUT/s34-paired500-$name"
done
# The 8-task and seven-task paired differences and BoolQ "yes" shares of sessions 33 and 34 (RESULTS.md):
BUDDY_TEST_DATA=$SHARED scripts/paired-subsets.py "$OUT/s33-paired500-0.875/results.json:buddy,ppl,sleb256" \
  "$OUT/s33-paired500-0.75/results.json:buddy,shortgpt,sleb" "$OUT/s34-paired500-0.625/results.json:buddy,sleb,sleb256" \
  "$OUT/s34-paired500-0.5/results.json:buddy,sleb256" "$OUT/s34-paired500-0.5-sleb/results.json:sleb"

# Session 35 (RESULTS.md, "Dense on the whole test sets"): every example of the tasks, dense, two sequence states on
# the two cores. The seven shorter tasks first (1 h), then HellaSwag (10,042 examples, about 2 h) added by the same
# command with --resume, which takes the finished tasks from the folder's checkpoint.json; stopped, either command
# goes on from its last 256 examples when run again.
for tasks in openbookqa,piqa,boolq,siqa,arc_easy,arc_challenge,winogrande paper; do
  ./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router none --tasks "$tasks" --limit 0 --ppl none \
    -t 2 -np 2 -o "$OUT/s35-dense-full" --resume
done

# Sessions 36-38 (RESULTS.md, "BUDDY against SLEB-256 on the whole test sets at b = 0.875"): the Alpaca router and
# SLEB-256 paired on every example of the seven shorter tasks, resumable like session 35's run; then the 7-task and
# without-BoolQ differences and the BoolQ "yes" shares.
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/alpaca.gguf,$OUT/plan-sleb256.gguf" \
  --budgets 0.875 --routing per-token --kv-policy compute-kv \
  --tasks openbookqa,piqa,boolq,siqa,arc_easy,arc_challenge,winogrande --limit 0 --ppl none --no-dense \
  -t 2 -np 2 -o "$OUT/s36-paired-full-0.875" --resume
BUDDY_TEST_DATA=$SHARED scripts/paired-subsets.py "$OUT/s36-paired-full-0.875/results.json:buddy,sleb"

# Sessions 38-40 (RESULTS.md, "BUDDY against ShortGPT on the whole test sets at b = 0.75"): the same for the Alpaca
# router and ShortGPT's plan, the best static plan at this budget on 500 examples per task.
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/alpaca.gguf,$OUT/plan-shortgpt.gguf" \
  --budgets 0.75 --routing per-token --kv-policy compute-kv \
  --tasks openbookqa,piqa,boolq,siqa,arc_easy,arc_challenge,winogrande --limit 0 --ppl none --no-dense \
  -t 2 -np 2 -o "$OUT/s38-paired-full-0.75" --resume
BUDDY_TEST_DATA=$SHARED scripts/paired-subsets.py "$OUT/s38-paired-full-0.75/results.json:buddy,shortgpt"

# Sessions 41- (under way; RESULTS.md gets its section when the run completes): the same at b = 0.625, where BUDDY
# led SLEB by +0.88 ± 0.73 on 500 examples per task. Resumable like the runs above; BUDDY's tasks run first, then
# SLEB's.
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/alpaca.gguf,$OUT/plan-sleb.gguf" \
  --budgets 0.625 --routing per-token --kv-policy compute-kv \
  --tasks openbookqa,piqa,boolq,siqa,arc_easy,arc_challenge,winogrande --limit 0 --ppl none --no-dense \
  -t 2 -np 2 -o "$OUT/s41-paired-full-0.625" --resume
BUDDY_TEST_DATA=$SHARED scripts/paired-subsets.py "$OUT/s41-paired-full-0.625/results.json:buddy,sleb"

# The Budget Predictor (RESULTS.md, "Budget Predictor"): GRPO on the committed SLEB-order router, model and router
# frozen, then --budgets auto next to the same router's fixed budgets (the report's "same compute" table).
# lambda-cost 0.05 is the paper's; 30 is about this router's own cross-entropy/compute slope near the top budgets.
ROUTER=results/routers/smollm2-135m-instruct-q4_1.buddy-sleb.router.gguf
# (The paper-weight run was a 300-step schedule stopped at its step-150 checkpoint; Adam's rate is constant, so 150
# steps give the same predictor.)
for run in paper:0.05:0.01:150 cost30:30:0.05:200; do
  IFS=: read -r name cost beta steps <<< "$run"
  ./buddy train-predictor -m "$MODEL" -r "$ROUTER" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --steps "$steps" \
    --lr 1e-2 --lambda-cost "$cost" --beta "$beta" --seed 42 --checkpoint-every 50 -t "$THREADS" \
    -o "$OUT/pred-$name.router.gguf"
done
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/pred-cost30.router.gguf" \
  --budgets auto,$BUDGETS --routing per-token --tasks paper --limit 60 --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" \
  -t "$THREADS" -o "$OUT/pred-cost30"
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" --router "$OUT/pred-paper.router.gguf" --budgets auto \
  --routing per-token --tasks paper --limit 60 --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense -t "$THREADS" \
  -o "$OUT/pred-paper"
# auto next to the fixed budgets of summary.json's "buddy" router (the same router), on its 20 examples per task.
./buddy eval -m "$MODEL" --datasets "$SHARED/datasets" \
  --router results/routers/smollm2-135m-instruct-q4_1.buddy-sleb-predictor.router.gguf --budgets auto \
  --routing per-token --tasks paper --limit "$LIMIT" --ppl wikitext2 --ppl-tokens "$PPL_TOKENS" --no-dense \
  -t "$THREADS" -o "$OUT/auto"
# summary.json gains every session-11 and session-14 run and auto; the plot is drawn twice, without and with LoRA.
merge=()
for name in shortgpt-lora ppl-lora sleb256-lora-1024 buddy-lora-lr3e-4 composed-lora buddy-composed-lora \
    buddy-composed-lora-lr1e-4; do
  merge+=("$OUT/$name-ppl/summary.json:buddy=$name,dense=dense-$name" "$OUT/$name-acc/summary.json:buddy=$name,dense=dense-$name")
done
./buddy eval-merge -o "$OUT/merged-11" results/smollm2-135m/summary.json "${merge[@]}" "$OUT/auto/summary.json"
python3 - "$OUT/merged-11/summary.json" "$OUT" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
groups = {'static': ['dense', 'shortgpt', 'ppl', 'sleb', 'sleb256', 'prior', 'swap', 'buddy-sleb', 'buddy',
                     'buddy-token-mixed'],
          'lora': ['dense', 'shortgpt-lora', 'ppl-lora', 'sleb256-lora', 'sleb256-lora-1024', 'buddy-lora',
                   'buddy-lora-lr3e-4', 'composed-lora', 'buddy-composed-lora', 'buddy-composed-lora-lr1e-4',
                   'buddy-secant-lora', 'swap-lora']}
for g, keep in groups.items():
    e = dict(d); e['methods'] = {m: d['methods'][m] for m in keep if m in d['methods']}
    json.dump(e, open('%s/%s.json' % (sys.argv[2], g), 'w'), indent=1)
PY
./buddy eval-merge -o "$OUT/plot-static" "$OUT/static.json"     # -> results/smollm2-135m/accuracy_compute.*
./buddy eval-merge -o "$OUT/plot-lora" "$OUT/lora.json"         # -> results/smollm2-135m/lora/accuracy_compute.*
# How much a perfect per-prompt predictor would gain over the best single budget under the cost-30 reward.
./buddy train-predictor -m "$MODEL" -r "$ROUTER" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --oracle 30 \
  --lambda-cost 30 -t "$THREADS"
# Training on every budget's reward (RESULTS.md, "Training on every budget's reward"): the table of every budget's
# cross-entropy on 207 prompts (the run was stopped there; --oracle 207 gives the same rows), then five-fold
# cross-validation: each fold's 40 prompts moved to the end of a copy of the table and held out.
TABLE=$OUT/smollm2.table.tsv
./buddy train-predictor -m "$MODEL" -r "$ROUTER" --data "$SHARED/datasets/alpaca/alpaca_5000.json" --oracle 207 \
  --table "$TABLE" --lambda-cost 30 -t "$THREADS"
python3 - "$TABLE" "$OUT" <<'PY'
import sys
lines = open(sys.argv[1]).read().split('\n')
head, rows = lines[:5], [l for l in lines[5:] if l][:200]
for f in range(5):
    fold = rows[40 * f:40 * f + 40]
    rest = rows[:40 * f] + rows[40 * f + 40:]
    open('%s/fold%d.tsv' % (sys.argv[2], f), 'w').write('\n'.join(head + rest + fold) + '\n')
PY
for cfg in 1:100 1:300 3:300 3:1000 10:100; do
  for f in 0 1 2 3 4; do
    ./buddy train-predictor -m "$MODEL" -r "$ROUTER" --data "$SHARED/datasets/alpaca/alpaca_5000.json" \
      --from-table "$OUT/fold$f.tsv" --hold-out 40 --lambda-cost 30 --steps "${cfg#*:}" --lr 1e-2 \
      --temperature "${cfg%%:*}" -t "$THREADS" -o "$OUT/fold$f.router.gguf"
  done
done
