package dev.buddy.router;

/**
 * Counters of a routed generation: blocks executed per token, distinct paths, reroutes, and the wall time the router
 * spent on its own work. Updated by {@link RoutingPlanner}; read at any time.
 */
public final class RoutingStats {
    private final int layerCount;
    private final MaskSet paths;
    private final MaskSet decodePaths;
    private long tokens;
    private long decodeTokens;
    private long blockRuns;
    private long decodeBlockRuns;
    private long forwardCalls;
    private long pathChanges;
    private long routerNanos;
    private long firstStartNanos;
    private long lastEndNanos;

    RoutingStats(int layerCount) {
        this.layerCount = layerCount;
        this.paths = new MaskSet(layerCount);
        this.decodePaths = new MaskSet(layerCount);
    }

    void record(int tokenCount, RoutingSession.Phase phase, boolean[] mask, boolean changed) {
        int ran = 0;
        for (int i = 0; i < layerCount; i++) {
            ran += mask[i] ? 1 : 0;
        }
        forwardCalls++;
        tokens += tokenCount;
        blockRuns += (long) ran * tokenCount;
        if (changed) {
            // An unchanged mask is the previous one, already in the set, so only changes need hashing.
            pathChanges++;
            paths.add(mask);
        }
        if (phase == RoutingSession.Phase.DECODE) {
            decodeTokens += tokenCount;
            decodeBlockRuns += (long) ran * tokenCount;
            // Checked every decode step (hashing only): a path first seen at prefill still counts for decoding.
            decodePaths.add(mask);
        }
    }

    void time(long startNanos, long endNanos) {
        if (firstStartNanos == 0) {
            firstStartNanos = startNanos;
        }
        lastEndNanos = endNanos;
        routerNanos += endNanos - startNanos;
    }

    public void reset() {
        paths.clear();
        decodePaths.clear();
        tokens = decodeTokens = blockRuns = decodeBlockRuns = forwardCalls = pathChanges = 0;
        routerNanos = firstStartNanos = lastEndNanos = 0;
    }

    public int layerCount() {
        return layerCount;
    }

    /** Positions routed (prompt and generated). */
    public long tokens() {
        return tokens;
    }

    public long decodeTokens() {
        return decodeTokens;
    }

    /** Forward calls planned (prefill chunks plus decode steps). */
    public long forwardCalls() {
        return forwardCalls;
    }

    /** Mean blocks executed per token, first and last included; L for the dense model. */
    public double meanBlocksPerToken() {
        return tokens == 0 ? 0 : blockRuns / (double) tokens;
    }

    /** Mean blocks per generated token. */
    public double meanBlocksPerDecodeToken() {
        return decodeTokens == 0 ? 0 : decodeBlockRuns / (double) decodeTokens;
    }

    /** Distinct masks used over the whole sequence. */
    public int distinctPaths() {
        return paths.size();
    }

    /** Distinct masks used by generated tokens (the paper's Fig. 4 count). */
    public int distinctDecodePaths() {
        return decodePaths.size();
    }

    /** Routes that differed from the previous one, the first route included. */
    public long pathChanges() {
        return pathChanges;
    }

    /** Wall time inside the router's own work (feature reads, MLP, pooling, top-k, bookkeeping). */
    public long routerNanos() {
        return routerNanos;
    }

    /**
     * Wall time from the first planning call's start to the last one's end: nearly the whole generation (everything
     * except the first prompt chunk's block 0 and the last token's tail).
     */
    public long observedNanos() {
        return lastEndNanos - firstStartNanos;
    }

    /** routerNanos / observedNanos; prefer {@link #routerShare(long)} with the caller's own total when it has one. */
    public double routerShare() {
        long span = observedNanos();
        return span <= 0 ? 0 : routerNanos / (double) span;
    }

    public double routerShare(long totalNanos) {
        return totalNanos <= 0 ? 0 : routerNanos / (double) totalNanos;
    }

    public String summary() {
        return String.format(java.util.Locale.ROOT,
                "tokens=%d (decode %d), blocks/token=%.2f of %d (decode %.2f), paths=%d (decode %d), "
                        + "path changes=%d, router time=%.3f ms (%.2f%%)",
                tokens, decodeTokens, meanBlocksPerToken(), layerCount, meanBlocksPerDecodeToken(), distinctPaths(),
                distinctDecodePaths(), pathChanges, routerNanos / 1e6, 100 * routerShare());
    }
}
