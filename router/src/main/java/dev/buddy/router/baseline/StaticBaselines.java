package dev.buddy.router.baseline;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import dev.buddy.router.Priors;
import dev.buddy.router.Provenance;
import dev.buddy.router.StaticPlan;

/**
 * The measurements behind the static baselines, and the plans made from them. Candidates are the middle blocks
 * 1..L−2: the first and last block always run (paper §4.2.1), so no baseline may remove them.
 */
public final class StaticBaselines {
    private final CalibrationRunner runner;
    private final Progress progress;
    private final int layerCount;
    private final int middle;

    public StaticBaselines(CalibrationRunner runner, Progress progress) {
        this.runner = runner;
        this.progress = progress;
        this.layerCount = runner.layerCount();
        dev.buddy.router.Budget.requireRoutableDepth(layerCount);
        this.middle = layerCount - 2;
    }

    /** Calibration passes {@link #build} makes for a method (for progress totals). */
    public static int passes(BaselineMethod method, int layerCount, int slebMaxDrop) {
        int middle = layerCount - 2;
        return switch (method) {
            case SHORTGPT -> 1;
            case PPL -> 1 + middle;
            case PRIOR -> 1 + middle; // with the ΔPPL indicator; the cosine indicator needs a single pass
            case SLEB -> {
                int total = 1;
                for (int d = 0; d < slebMaxDrop; d++) {
                    total += middle - d;
                }
                yield total;
            }
        };
    }

    /** ShortGPT Block Influence of each middle block (index i is block i+1), each in [0, 2]. */
    public double[] blockInfluence() {
        double[] all = runner.blockInfluence();
        progress.passDone(1, 1);
        double[] out = new double[middle];
        System.arraycopy(all, 1, out, 0, middle);
        return out;
    }

    /**
     * Shortened LLaMA's ΔPPL of each middle block (index i is block i+1): max{0, PPL without it − PPL full}, the
     * paper's direction unification (App. B), so every value is >= 0.
     */
    public double[] deltaPerplexity() {
        int total = 1 + middle;
        double full = runner.perplexity(new boolean[layerCount]);
        progress.passDone(1, total);
        double[] delta = new double[middle];
        for (int i = 0; i < middle; i++) {
            boolean[] removed = new boolean[layerCount];
            removed[i + 1] = true;
            delta[i] = Math.max(0.0, runner.perplexity(removed) - full);
            progress.passDone(i + 2, total);
        }
        return delta;
    }

    /**
     * SLEB: starting from the full model, repeatedly remove the remaining middle block whose removal gives the lowest
     * perplexity (ties to the lower block), re-measuring every candidate after each removal.
     *
     * @param maxDrop how many blocks to remove, 1..L−3 (at least one middle block always runs)
     */
    public SlebResult sleb(int maxDrop) {
        if (maxDrop < 1 || maxDrop > middle - 1) {
            throw new IllegalArgumentException("SLEB can remove 1.." + (middle - 1) + " blocks of a " + layerCount
                    + "-block model, asked for " + maxDrop);
        }
        int total = passes(BaselineMethod.SLEB, layerCount, maxDrop);
        int done = 0;
        boolean[] removed = new boolean[layerCount];
        double full = runner.perplexity(removed);
        progress.passDone(++done, total);
        int[] order = new int[maxDrop];
        double[] after = new double[maxDrop];
        for (int d = 0; d < maxDrop; d++) {
            int best = -1;
            double bestPpl = Double.POSITIVE_INFINITY;
            for (int block = 1; block <= middle; block++) {
                if (removed[block]) {
                    continue;
                }
                removed[block] = true;
                double ppl = runner.perplexity(removed);
                removed[block] = false;
                progress.passDone(++done, total);
                // NaN (an overflowing model) ranks as infinitely bad; strict < keeps the lower block on ties.
                double key = Double.isNaN(ppl) ? Double.POSITIVE_INFINITY : ppl;
                if (best < 0 || key < bestPpl) {
                    best = block;
                    bestPpl = key;
                }
            }
            removed[best] = true;
            order[d] = best;
            after[d] = bestPpl;
        }
        return new SlebResult(order, after, full);
    }

    /**
     * What one baseline run produced.
     *
     * @param plan      the plan to write
     * @param indicator the per-middle-block score the ranking came from (index i is block i+1; for prior-only the
     *                  raw indicator before normalisation); empty for SLEB
     * @param sleb      SLEB's search, present only for SLEB
     */
    public record Outcome(StaticPlan plan, double[] indicator, Optional<SlebResult> sleb) {
        public Outcome {
            indicator = indicator.clone();
        }

        @Override
        public double[] indicator() {
            return indicator.clone();
        }
    }

    /** The plan for {@code method}; {@code slebMaxDrop} matters only for SLEB, {@code priorIndicator} for prior. */
    public StaticPlan build(BaselineMethod method, String name, Provenance base, int slebMaxDrop,
            PriorIndicator priorIndicator) {
        return run(method, name, base, slebMaxDrop, priorIndicator).plan();
    }

    /** Measures and builds the plan for {@code method}, keeping the measurements for reports. */
    public Outcome run(BaselineMethod method, String name, Provenance base, int slebMaxDrop,
            PriorIndicator priorIndicator) {
        return switch (method) {
            case SHORTGPT -> {
                double[] bi = blockInfluence();
                yield new Outcome(StaticPlan.fromScores(name, toFloat(bi), provenance(base, method, "cosine")), bi,
                        Optional.empty());
            }
            case PPL -> {
                double[] delta = deltaPerplexity();
                yield new Outcome(StaticPlan.fromScores(name, toFloat(delta), provenance(base, method, "dppl")), delta,
                        Optional.empty());
            }
            case SLEB -> {
                SlebResult result = sleb(slebMaxDrop);
                yield new Outcome(slebPlan(name, layerCount, result, provenance(base, method, "dppl")), new double[0],
                        Optional.of(result));
            }
            case PRIOR -> {
                double[] raw = priorIndicator == PriorIndicator.COSINE ? blockInfluence() : deltaPerplexity();
                float[] prior = Priors.normalize(raw, priorIndicator.heavyTail());
                yield new Outcome(StaticPlan.fromScores(name, prior,
                        provenance(base, method, priorIndicator.fileName())), raw, Optional.empty());
            }
        };
    }

    /**
     * SLEB's removals are nested, so the block set for k = L−2−d is the middle blocks minus the first d removed.
     * When the search ran to a single block, that is a full ranking too (the last survivor first, then the removals
     * in reverse), stored alongside the sets.
     */
    public static StaticPlan slebPlan(String name, int layerCount, SlebResult result, Provenance provenance) {
        int middle = layerCount - 2;
        int[] order = result.removalOrder();
        boolean[] removed = new boolean[layerCount];
        Map<Integer, int[]> sets = new LinkedHashMap<>();
        for (int d = 0; d < order.length; d++) {
            removed[order[d]] = true;
            int[] kept = new int[middle - d - 1];
            int j = 0;
            for (int b = 1; b <= middle; b++) {
                if (!removed[b]) {
                    kept[j++] = b;
                }
            }
            sets.put(kept.length, kept);
        }
        int[] ranking = new int[0];
        if (order.length == middle - 1) {
            ranking = new int[middle];
            ranking[0] = sets.get(1)[0];
            for (int d = 0; d < order.length; d++) {
                ranking[middle - 1 - d] = order[d];
            }
        }
        return new StaticPlan(name, layerCount, ranking, sets, provenance);
    }

    private static Provenance provenance(Provenance base, BaselineMethod method, String priorKind) {
        return new Provenance(base.baseFingerprint(), base.baseArchitecture(), true, new float[0],
                method.fileMethod(), priorKind);
    }

    private static float[] toFloat(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
