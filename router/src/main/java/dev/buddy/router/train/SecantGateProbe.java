package dev.buddy.router.train;

/**
 * Finite-difference gate gradients for the blocks at the top-k boundary, in place of the straight-through
 * estimator's first-order ones ({@code --secant N}).
 *
 * <p>The analytic gate gradient {@code ∂L/∂m} is a slope: at {@code m = 1} for a running block, where a pretrained
 * model's loss is flat, and at {@code m = 0} for a skipped one, where it is steep, so it misjudges what switching a
 * block actually does (RESULTS.md, "Why BUDDY loses here", item 3). Only the blocks next to the cut decide the route,
 * so this probe measures them exactly: for the {@code N} running middle blocks with the lowest fused scores and the
 * {@code N} skipped ones with the highest, it re-runs the sequence with that one gate flipped and takes the secant
 * {@code g_j = L(m_j = 1) − L(m_j = 0)} (negative: block j lowers the loss on this sequence). The relaxation then
 * moves the scores over those 2N blocks only ({@link GateRelaxation#scoreGradient} on the boundary set); blocks far
 * from the cut get no gradient, since nudging them changes no route.
 *
 * <p>Each probe re-runs the blocks above the flipped one and the head, without a backward pass (the flipped block's
 * own F(h) is the main pass's: it ran, or was probed); probes go from the highest block to the lowest so each starts
 * from inputs the main pass left intact.
 */
final class SecantGateProbe {
    private final int blocksPerSide;
    private final int middle;
    private final int[] chosen;
    private final float[] probeGates;
    private final float[] windowFused;
    private final double[] windowSecants;
    private final double[] windowGradients;
    private final boolean[] taken;
    /** Examples probed on both sides of the cut, and those where a skipped block measured more useful than a running one. */
    private long twoSided;
    private long inverted;
    /** Σ over inverted examples of the first-order gain of the best single swap, in nats per scored token. */
    private double swapGain;

    SecantGateProbe(int blocksPerSide, int layerCount) {
        if (blocksPerSide < 1) {
            throw new IllegalArgumentException("a secant probe needs at least 1 block per side, got " + blocksPerSide);
        }
        this.blocksPerSide = blocksPerSide;
        this.middle = layerCount - 2;
        this.chosen = new int[2 * blocksPerSide];
        this.probeGates = new float[layerCount];
        this.windowFused = new float[2 * blocksPerSide];
        this.windowSecants = new double[2 * blocksPerSide];
        this.windowGradients = new double[2 * blocksPerSide];
        this.taken = new boolean[middle];
    }

    /**
     * Writes {@code ∂L/∂s'} for the boundary blocks into {@code scoreGradients} (0 elsewhere). Call after the main
     * pass's {@link ModelPass#backward}.
     *
     * @param gates      the main pass's gates, one per block
     * @param fused      s', one per middle block
     * @param baseLoss   the main pass's summed NLL
     * @param scored     the positions with a target (for the run's report only)
     * @param lossScale  the factor the main loss was scaled by (1 / scored tokens of the batch)
     */
    void scoreGradients(ModelPass pass, float[] gates, float[] fused, double baseLoss, int[] targets, int scored,
                        float lossScale, GateRelaxation relaxation, double[] scoreGradients) {
        int count = 0;
        java.util.Arrays.fill(taken, false);
        count = pick(gates, fused, true, count);
        count = pick(gates, fused, false, count);
        java.util.Arrays.fill(scoreGradients, 0, middle, 0.0);
        if (count < 2) {
            return; // nothing to compare: full depth, or a single candidate
        }
        // Highest block first: each probe re-runs from its block, so lower blocks' inputs stay intact.
        java.util.Arrays.sort(chosen, 0, count);
        for (int c = count - 1; c >= 0; c--) {
            int block = chosen[c] + 1;
            System.arraycopy(gates, 0, probeGates, 0, gates.length);
            boolean running = gates[block] != 0f;
            probeGates[block] = running ? 0f : 1f;
            double flipped = pass.probeLoss(probeGates, block, targets);
            double secant = running ? baseLoss - flipped : flipped - baseLoss;
            windowSecants[c] = secant * lossScale;
            windowFused[c] = fused[chosen[c]];
        }
        countInversion(gates, count, lossScale, scored);
        relaxation.scoreGradient(windowFused, windowSecants, count, windowGradients);
        for (int c = 0; c < count; c++) {
            scoreGradients[chosen[c]] = windowGradients[c];
        }
    }

    /**
     * Whether this sequence would rather swap a block across the cut: its most useful skipped block (lowest secant)
     * measured better than its least useful running one. The swap's gain is estimated as the sum of the two secants'
     * difference (first order: the two switches' interaction is not measured).
     */
    private void countInversion(float[] gates, int count, float lossScale, int scored) {
        double worstRunning = Double.NEGATIVE_INFINITY;
        double bestSkipped = Double.POSITIVE_INFINITY;
        for (int c = 0; c < count; c++) {
            if (gates[chosen[c] + 1] != 0f) {
                worstRunning = Math.max(worstRunning, windowSecants[c]);
            } else {
                bestSkipped = Math.min(bestSkipped, windowSecants[c]);
            }
        }
        if (worstRunning == Double.NEGATIVE_INFINITY || bestSkipped == Double.POSITIVE_INFINITY) {
            return;
        }
        twoSided++;
        if (bestSkipped < worstRunning) {
            inverted++;
            swapGain += (worstRunning - bestSkipped) / lossScale / scored;
        }
    }

    /** What the probes saw over the run, for the end-of-run report. */
    String describe() {
        return String.format(java.util.Locale.ROOT, "secant probe: on %d of %d examples (%.1f%%) a skipped block at the"
                + " cut measured more useful than a running one (estimated mean gain of the best swap there: %.4g"
                + " nats per scored token)", inverted, twoSided,
                twoSided == 0 ? 0.0 : 100.0 * inverted / twoSided, inverted == 0 ? 0.0 : swapGain / inverted);
    }

    /** Adds the {@code blocksPerSide} running (or skipped) middle blocks nearest the cut to {@link #chosen}. */
    private int pick(float[] gates, float[] fused, boolean running, int count) {
        for (int n = 0; n < blocksPerSide; n++) {
            int best = -1;
            for (int j = 0; j < middle; j++) {
                if (taken[j] || (gates[j + 1] != 0f) != running) {
                    continue;
                }
                // Running: the lowest score is next to leave; skipped: the highest is next to enter.
                if (best < 0 || (running ? fused[j] < fused[best] : fused[j] > fused[best])) {
                    best = j;
                }
            }
            if (best < 0) {
                break;
            }
            taken[best] = true;
            chosen[count++] = best;
        }
        return count;
    }
}
