package dev.buddy.router.train;

/**
 * The continuous stand-in for the hard top-k mask in the backward pass (the straight-through estimator of paper
 * §4.2.3, whose form the paper leaves open). The forward gate is always the hard mask; only
 * {@code ∂m̃/∂s'} differs:
 *
 * <ul>
 *   <li>{@link #SOFTMAX}: {@code m̃ = hard + softmax(s') − stopgrad(softmax(s'))}, so
 *       {@code ∂L/∂s'_j = p_j·(g_j − Σ_i p_i·g_i)} with {@code g = ∂L/∂m}. The default. Top-k depends only on the
 *       order of the scores, and this gradient has the same invariance: it sums to zero over the blocks, so it moves
 *       blocks relative to each other (a block whose gate gradient is better than the probability-weighted mean
 *       rises) and never drifts all scores together. It is the relaxation the paper's Eq. 2 writes
 *       ({@code Top-K(Softmax(s'))}).</li>
 *   <li>{@link #SIGMOID}: {@code m̃ = hard + σ(s') − stopgrad(σ(s'))}, so {@code ∂L/∂s'_j = g_j·σ'(s'_j)}. Each
 *       block is pushed independently; the common component of the gate gradients (at full depth, every block
 *       helps) raises all scores at once without changing the ranking, and large scores saturate σ and stop
 *       learning.</li>
 * </ul>
 */
public enum GateRelaxation {
    SOFTMAX("softmax"),
    SIGMOID("sigmoid");

    private final String cliName;

    GateRelaxation(String cliName) {
        this.cliName = cliName;
    }

    public String cliName() {
        return cliName;
    }

    public static GateRelaxation fromName(String name) {
        for (GateRelaxation r : values()) {
            if (r.cliName.equalsIgnoreCase(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown gate relaxation '" + name + "': expected softmax or sigmoid");
    }

    /**
     * {@code ∂L/∂s'} from the gate gradients.
     *
     * @param fused         s', one score per middle block
     * @param gateGradients {@code ∂L/∂m_j} per middle block
     * @param out           receives {@code ∂L/∂s'_j}
     */
    void scoreGradient(float[] fused, double[] gateGradients, int count, double[] out) {
        switch (this) {
            case SOFTMAX -> {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < count; j++) {
                    max = Math.max(max, fused[j]);
                }
                double sum = 0;
                for (int j = 0; j < count; j++) {
                    out[j] = Math.exp(fused[j] - max);
                    sum += out[j];
                }
                double mean = 0;
                for (int j = 0; j < count; j++) {
                    out[j] /= sum;
                    mean += out[j] * gateGradients[j];
                }
                for (int j = 0; j < count; j++) {
                    out[j] = out[j] * (gateGradients[j] - mean);
                }
            }
            case SIGMOID -> {
                for (int j = 0; j < count; j++) {
                    double sigma = 1.0 / (1.0 + Math.exp(-fused[j]));
                    out[j] = gateGradients[j] * sigma * (1.0 - sigma);
                }
            }
        }
    }
}
