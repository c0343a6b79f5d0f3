package dev.buddy.router;

/** A session over a {@link StaticPlan}: one mask for the whole sequence, no features read. */
public final class StaticRoutingSession implements RoutingSession {
    private final int layerCount;
    private final boolean[] mask;
    private final int middleBlocks;
    private int positions;
    private boolean routed;

    StaticRoutingSession(StaticPlan plan, boolean[] mask) {
        this.layerCount = plan.layerCount();
        this.mask = mask.clone();
        int k = 0;
        for (int b = 1; b < layerCount - 1; b++) {
            k += mask[b] ? 1 : 0;
        }
        this.middleBlocks = k;
    }

    @Override
    public int layerCount() {
        return layerCount;
    }

    @Override
    public boolean needsFeatures() {
        return false;
    }

    @Override
    public int featureDim() {
        return 0;
    }

    @Override
    public void reset() {
        positions = 0;
        routed = false;
    }

    @Override
    public int positions() {
        return positions;
    }

    @Override
    public void observe(Layer0Features cache, int position) {
        positions++;
    }

    @Override
    public void append(float[] feature, int offset) {
        positions++;
    }

    @Override
    public boolean route(Phase phase) {
        boolean first = !routed;
        routed = true;
        return first;
    }

    @Override
    public boolean runs(int block) {
        return mask[block];
    }

    @Override
    public void copyMaskTo(boolean[] dst) {
        System.arraycopy(mask, 0, dst, 0, layerCount);
    }

    @Override
    public int middleBlocks() {
        return middleBlocks;
    }
}
