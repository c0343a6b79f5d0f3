package dev.buddy.router;

/**
 * A compute budget: either the fraction {@code b ∈ (0,1]} of blocks to execute, or a number of middle blocks to drop.
 *
 * <p>Blocks 0 and L−1 always run; of the L−2 middle blocks exactly {@code k} run, where
 * {@code k = clamp(round(b·L) − 2, 1, L−2)} for a fraction (paper §4.2.1, clamp from App. C.2) and {@code k = L−2−N}
 * for {@code --drop N}. The budget never changes the router's scores, only how many of them are taken.
 *
 * @param kind     which of the two forms this is
 * @param fraction the fraction b, meaningful for {@link Kind#FRACTION}
 * @param drop     the number N of middle blocks to skip, meaningful for {@link Kind#DROP}
 */
public record Budget(Kind kind, double fraction, int drop) {
    public enum Kind { FRACTION, DROP }

    public Budget {
        switch (kind) {
            case FRACTION -> {
                // NaN fails both comparisons, so it is rejected here too.
                if (!(fraction > 0.0 && fraction <= 1.0)) {
                    throw new InvalidBudgetException("budget " + fraction + " is outside (0, 1]: it is the fraction of"
                            + " blocks to execute");
                }
            }
            case DROP -> {
                if (drop < 0) {
                    throw new InvalidBudgetException("cannot drop " + drop + " blocks: the drop count must be >= 0");
                }
            }
        }
    }

    /** A fraction of blocks to execute, b ∈ (0,1]. */
    public static Budget fraction(double b) {
        return new Budget(Kind.FRACTION, b, 0);
    }

    /** Skip exactly {@code n} middle blocks. */
    public static Budget drop(int n) {
        return new Budget(Kind.DROP, Double.NaN, n);
    }

    /** The full model: every block runs. */
    public static Budget full() {
        return drop(0);
    }

    /**
     * The number k of middle blocks that run on a model of {@code layerCount} blocks.
     *
     * @throws InvalidBudgetException if the model is too shallow to route, or a drop count leaves no middle block
     */
    public int middleBlocks(int layerCount) {
        requireRoutableDepth(layerCount);
        int middle = layerCount - 2;
        return switch (kind) {
            case FRACTION -> {
                // Math.round rounds half up; round(b·L) is non-decreasing in b, so k never shrinks as b grows.
                long k = Math.round(fraction * layerCount) - 2;
                yield (int) Math.max(1, Math.min(middle, k));
            }
            case DROP -> {
                if (drop > middle - 1) {
                    throw new InvalidBudgetException("cannot drop " + drop + " blocks from a " + layerCount
                            + "-block model: at least one middle block must run, so drop must be in 0.."
                            + (middle - 1));
                }
                yield middle - drop;
            }
        };
    }

    /** The number of blocks that run per token: k plus the always-run first and last blocks. */
    public int executedBlocks(int layerCount) {
        return middleBlocks(layerCount) + 2;
    }

    /** The budget b = (k+2)/L that executing k middle blocks corresponds to (paper Eq. 4). */
    public static double fractionForMiddleBlocks(int k, int layerCount) {
        requireRoutableDepth(layerCount);
        if (k < 1 || k > layerCount - 2) {
            throw new InvalidBudgetException("k = " + k + " middle blocks is outside 1.." + (layerCount - 2)
                    + " for a " + layerCount + "-block model");
        }
        return (k + 2) / (double) layerCount;
    }

    /** BUDDY always runs the first and last block and routes the rest, so it needs at least one middle block. */
    public static void requireRoutableDepth(int layerCount) {
        if (layerCount < 3) {
            throw new InvalidBudgetException("a " + layerCount + "-block model has no middle block to route; BUDDY"
                    + " needs at least 3 blocks");
        }
    }

    @Override
    public String toString() {
        return kind == Kind.FRACTION ? "b=" + fraction : "drop=" + drop;
    }
}
