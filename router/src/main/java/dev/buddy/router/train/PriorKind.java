package dev.buddy.router.train;

/**
 * The offline per-block importance indicators of paper §4.2.2 / App. B, each with its direction unification and
 * whether the heavy-tail log1p step applies.
 */
public enum PriorKind {
    /**
     * First-order Taylor importance of block l's gate at full depth: {@code |Σ_tokens ⟨∂L/∂h_{l+1}, F_l(h_l)⟩|},
     * i.e. {@code |∂L/∂m_l|} at m = 1 summed over the calibration text (the paper's default indicator).
     */
    TAYLOR("taylor", true),
    /** ΔPPL: {@code max(0, PPL with block l skipped − full PPL)}, one extra forward pass per middle block. */
    PPL("dppl", true),
    /**
     * Cosine distance between a block's input and output hidden states at full depth,
     * {@code 1 − cos(h_l, h_{l+1})} averaged over tokens (ShortGPT's block influence); lies in [0, 2].
     */
    COSINE("cosine", false),
    /**
     * SLEB's greedy removal order as a ranking ({@link SlebPrior}): removed first = least important, never removed
     * above all removed blocks (ordered by ΔPPL). Comes from a SLEB search, not from {@link PriorEstimator}; a rank,
     * so no log1p.
     */
    SLEB("sleb", false);

    private final String fileName;
    private final boolean heavyTail;

    PriorKind(String fileName, boolean heavyTail) {
        this.fileName = fileName;
        this.heavyTail = heavyTail;
    }

    /** The name recorded as the router's {@code prior_kind}. */
    public String fileName() {
        return fileName;
    }

    /** Whether App. B's log(1+x) stabilisation applies (ΔPPL and Taylor; not cosine). */
    public boolean heavyTail() {
        return heavyTail;
    }

    /** Parses {@code taylor}, {@code dppl} (or {@code ppl}), {@code cosine} and {@code sleb}, case-insensitively. */
    public static PriorKind fromName(String name) {
        for (PriorKind k : values()) {
            if (k.fileName.equalsIgnoreCase(name)) {
                return k;
            }
        }
        if ("ppl".equalsIgnoreCase(name)) {
            return PPL;
        }
        throw new IllegalArgumentException("unknown prior '" + name + "': expected taylor, dppl (ppl), cosine or sleb");
    }
}
