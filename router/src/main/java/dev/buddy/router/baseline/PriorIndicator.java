package dev.buddy.router.baseline;

/** The offline importance indicator behind the prior-only baseline (paper App. B: one indicator at a time). */
public enum PriorIndicator {
    /** ΔPPL: heavy-tailed, so log(1+x) before the robust z-score. */
    DPPL("dppl", true),
    /** 1 − cos of a block's input and output (ShortGPT's BI): bounded in [0, 2], so no log. */
    COSINE("cosine", false);

    private final String fileName;
    private final boolean heavyTail;

    PriorIndicator(String fileName, boolean heavyTail) {
        this.fileName = fileName;
        this.heavyTail = heavyTail;
    }

    public String fileName() {
        return fileName;
    }

    public boolean heavyTail() {
        return heavyTail;
    }

    public static PriorIndicator fromFileName(String name) {
        for (PriorIndicator p : values()) {
            if (p.fileName.equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown prior indicator '" + name + "' (expected dppl or cosine)");
    }
}
