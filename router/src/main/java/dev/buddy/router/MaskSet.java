package dev.buddy.router;

/**
 * The set of distinct block masks seen, each with a weight (e.g. the tokens that ran it), as an open-addressing hash
 * table over packed 64-bit words. Adding a mask already present allocates nothing; the table only grows (doubling)
 * when a new mask pushes it past half full.
 */
public final class MaskSet {
    private final int layerCount;
    private final int words;
    private final long[] packed;
    private long[] table;
    private boolean[] used;
    private long[] weights;
    private int size;
    private long totalWeight;

    public MaskSet(int layerCount) {
        this.layerCount = layerCount;
        this.words = (layerCount + 63) / 64;
        this.packed = new long[words];
        allocate(16);
    }

    private void allocate(int capacity) {
        table = new long[capacity * words];
        used = new boolean[capacity];
        weights = new long[capacity];
    }

    /** Distinct masks added since the last {@link #clear}. */
    public int size() {
        return size;
    }

    public void clear() {
        java.util.Arrays.fill(used, false);
        java.util.Arrays.fill(weights, 0L);
        size = 0;
        totalWeight = 0;
    }

    /** Adds the mask with weight 1; returns true if it was not there before. */
    public boolean add(boolean[] mask) {
        return add(mask, 0, 1);
    }

    /** Adds {@code masks[offset, offset + layerCount)} with {@code weight}; returns true if it was not there before. */
    public boolean add(boolean[] masks, int offset, long weight) {
        java.util.Arrays.fill(packed, 0L);
        for (int i = 0; i < layerCount; i++) {
            if (masks[offset + i]) {
                packed[i >>> 6] |= 1L << (i & 63);
            }
        }
        totalWeight += weight;
        if (!insert(packed, weight)) {
            return false;
        }
        if (2 * size > used.length) {
            grow();
        }
        return true;
    }

    /** Adds every mask of {@code other} (of the same layer count) with its weight. */
    public void addAll(MaskSet other) {
        if (other.layerCount != layerCount) {
            throw new IllegalArgumentException("masks of " + other.layerCount + " layers added to a set of "
                    + layerCount);
        }
        long[] key = new long[words];
        for (int s = 0; s < other.used.length; s++) {
            if (other.used[s]) {
                System.arraycopy(other.table, s * words, key, 0, words);
                totalWeight += other.weights[s];
                if (insert(key, other.weights[s]) && 2 * size > used.length) {
                    grow();
                }
            }
        }
    }

    /** Receives one distinct mask (a fresh array, block 0 first) and its weight. */
    @FunctionalInterface
    public interface MaskConsumer {
        void accept(boolean[] mask, long weight);
    }

    /** Every distinct mask with its weight, in no particular order. */
    public void forEach(MaskConsumer consumer) {
        for (int s = 0; s < used.length; s++) {
            if (used[s]) {
                boolean[] mask = new boolean[layerCount];
                for (int i = 0; i < layerCount; i++) {
                    mask[i] = (table[s * words + (i >>> 6)] & (1L << (i & 63))) != 0;
                }
                consumer.accept(mask, weights[s]);
            }
        }
    }

    /** The largest weight of one mask over the sum of all weights (NaN when empty). */
    public double topShare() {
        long top = 0;
        for (int s = 0; s < used.length; s++) {
            if (used[s]) {
                top = Math.max(top, weights[s]);
            }
        }
        return totalWeight == 0 ? Double.NaN : top / (double) totalWeight;
    }

    private boolean insert(long[] key, long weight) {
        int capacity = used.length;
        int slot = hash(key) & (capacity - 1);
        while (used[slot]) {
            if (equalsAt(slot, key)) {
                weights[slot] += weight;
                return false;
            }
            slot = (slot + 1) & (capacity - 1);
        }
        used[slot] = true;
        weights[slot] = weight;
        System.arraycopy(key, 0, table, slot * words, words);
        size++;
        return true;
    }

    private boolean equalsAt(int slot, long[] key) {
        int base = slot * words;
        for (int w = 0; w < words; w++) {
            if (table[base + w] != key[w]) {
                return false;
            }
        }
        return true;
    }

    private int hash(long[] key) {
        long h = 0x9E3779B97F4A7C15L;
        for (long w : key) {
            h = (h ^ w) * 0xBF58476D1CE4E5B9L;
            h ^= h >>> 31;
        }
        return (int) (h ^ (h >>> 32));
    }

    private void grow() {
        long[] oldTable = table;
        boolean[] oldUsed = used;
        long[] oldWeights = weights;
        allocate(oldUsed.length * 2);
        size = 0;
        long[] key = new long[words];
        for (int s = 0; s < oldUsed.length; s++) {
            if (oldUsed[s]) {
                System.arraycopy(oldTable, s * words, key, 0, words);
                insert(key, oldWeights[s]);
            }
        }
    }
}
