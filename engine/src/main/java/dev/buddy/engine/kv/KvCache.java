package dev.buddy.engine.kv;

import dev.buddy.engine.tensor.GgmlSums;
import java.util.Arrays;

/**
 * Keys and values of every layer at every position, laid out {@code [layer][position][kvHead][headDim]} so that one
 * head's key or value at one position is contiguous.
 *
 * <p>Besides the rows, the cache keeps a per-layer validity bitmap: a row marked invalid is left out of that layer's
 * attention (the router's {@code SkippedKvPolicy.MASK}). Rows are valid once stored; {@link #reset()} forgets
 * everything.
 *
 * <p>The two storage flavours also own the two inner loops of attention ({@link #keyScores} and
 * {@link #weightedValues}), because how the query and the weights are rounded depends on the storage type.
 */
public abstract sealed class KvCache permits F32KvCache, F16KvCache {
    protected final int layerCount;
    protected final int contextLength;
    protected final int kvHeadCount;
    protected final int headDim;
    protected final int kvDim;
    /** Bit p of invalid[layer] is set when position p is excluded from that layer's attention. */
    private final long[][] invalid;
    private final int[] invalidCount;

    protected KvCache(int layerCount, int contextLength, int kvHeadCount, int headDim) {
        if (layerCount <= 0 || contextLength <= 0 || kvHeadCount <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KV cache dimensions must be positive: layers " + layerCount
                    + ", context " + contextLength + ", kv heads " + kvHeadCount + ", head dim " + headDim);
        }
        long rowElements = (long) contextLength * kvHeadCount * headDim;
        if (rowElements > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("context " + contextLength + " is too large for one layer's KV rows");
        }
        this.layerCount = layerCount;
        this.contextLength = contextLength;
        this.kvHeadCount = kvHeadCount;
        this.headDim = headDim;
        this.kvDim = kvHeadCount * headDim;
        this.invalid = new long[layerCount][(contextLength + 63) >>> 6];
        this.invalidCount = new int[layerCount];
    }

    /** A zero-filled cache; every position valid. */
    public static KvCache allocate(KvCacheType type, int layerCount, int contextLength, int kvHeadCount, int headDim) {
        return switch (type) {
            case F32 -> new F32KvCache(layerCount, contextLength, kvHeadCount, headDim);
            case F16 -> new F16KvCache(layerCount, contextLength, kvHeadCount, headDim);
        };
    }

    public abstract KvCacheType type();

    public int layerCount() {
        return layerCount;
    }

    public int contextLength() {
        return contextLength;
    }

    public int kvHeadCount() {
        return kvHeadCount;
    }

    public int headDim() {
        return headDim;
    }

    /** kvHeadCount * headDim: the length of one position's key (or value) row. */
    public int kvDim() {
        return kvDim;
    }

    /** Bytes held by the key and value rows. */
    public abstract long byteSize();

    /** Stores {@code kvDim} floats of {@code key} from {@code offset} as the key row of (layer, position). */
    public abstract void storeKey(int layer, int position, float[] key, int offset);

    /** Stores {@code kvDim} floats of {@code value} from {@code offset} as the value row of (layer, position). */
    public abstract void storeValue(int layer, int position, float[] value, int offset);

    /** Reads the key row of (layer, position) into {@code dst} (as stored, so F16-rounded for F16). */
    public abstract void readKey(int layer, int position, float[] dst, int offset);

    /** Reads the value row of (layer, position) into {@code dst}. */
    public abstract void readValue(int layer, int position, float[] dst, int offset);

    /** Sets the key and value rows of (layer, position) to zero. */
    public abstract void zero(int layer, int position);

    /**
     * Rounds one head's query the way the key dot product sees it: unchanged for F32, to F16 for F16 (llama.cpp
     * converts the F32 query to the cache's type before {@code K·q}).
     */
    public abstract void prepareQuery(float[] q, int qOffset, float[] dst, int dstOffset);

    /**
     * {@code scores[scoresOffset + p] = dot(K[layer][p][kvHead], query) * scale} for p in [0, positions), where
     * {@code query} came from {@link #prepareQuery}, summed as llama.cpp sums a single-token decode. Positions marked
     * invalid get a score too; the caller masks them.
     */
    public final void keyScores(int layer, int kvHead, float[] query, int queryOffset, int positions, float scale,
            float[] scores, int scoresOffset) {
        keyScores(layer, kvHead, query, queryOffset, positions, scale, scores, scoresOffset, false);
    }

    /**
     * As {@link #keyScores(int, int, float[], int, int, float, float[], int)}; {@code batch} is true when the forward
     * call carries two or more tokens, where llama.cpp's mat-muls take tinyBLAS and sum in another order (see
     * {@link GgmlSums}).
     */
    public abstract void keyScores(int layer, int kvHead, float[] query, int queryOffset, int positions, float scale,
            float[] scores, int scoresOffset, boolean batch);

    /**
     * {@link #keyScores(int, int, float[], int, int, float, float[], int, boolean)} for {@code count} queries that
     * share one KV head (the query heads of one GQA group): query j at {@code queryOffset + j * headDim}, its scores
     * at {@code scoresOffset + j * scoresStride}. Every score has the bits the one-query call gives; a cache may
     * read each key once for the whole group.
     */
    public void keyScoresGroup(int layer, int kvHead, float[] queries, int queryOffset, int count, int positions,
            float scale, float[] scores, int scoresOffset, int scoresStride, boolean batch) {
        for (int j = 0; j < count; j++) {
            keyScores(layer, kvHead, queries, queryOffset + j * headDim, positions, scale, scores,
                    scoresOffset + j * scoresStride, batch);
        }
    }

    /**
     * {@link #weightedValues(int, int, float[], int, int, float[], int, float[], int, boolean)} for {@code count}
     * queries that share one KV head: weights j at {@code weightsOffset + j * weightsStride}, output j at
     * {@code outOffset + j * headDim}, scratch j at {@code scratchOffset + j * valueScratchSize()}. Every output has
     * the bits the one-query call gives; a cache may read each value row once for the whole group.
     */
    public void weightedValuesGroup(int layer, int kvHead, float[] weights, int weightsOffset, int weightsStride,
            int count, int positions, float[] out, int outOffset, float[] scratch, int scratchOffset, boolean batch) {
        for (int j = 0; j < count; j++) {
            weightedValues(layer, kvHead, weights, weightsOffset + j * weightsStride, positions, out,
                    outOffset + j * headDim, scratch, scratchOffset + j * valueScratchSize(), batch);
        }
    }

    /** Floats of working memory {@link #weightedValues} needs per concurrent call. */
    public final int valueScratchSize() {
        return valueScratchSize(headDim);
    }

    /** {@link #valueScratchSize()} of any cache with heads of {@code headDim}. */
    public static int valueScratchSize(int headDim) {
        return 32 * headDim;
    }

    /**
     * {@code out[outOffset + d] = Σ_p weight[p] * V[layer][p][kvHead][d]} over p in [0, positions), with weights
     * rounded to F16 first for F16 storage (llama.cpp converts the softmax to the V cache's type), summed as a
     * single-token decode. {@code out} is overwritten; {@code scratch} provides {@link #valueScratchSize()} floats
     * from {@code scratchOffset}.
     */
    public final void weightedValues(int layer, int kvHead, float[] weights, int weightsOffset, int positions,
            float[] out, int outOffset, float[] scratch, int scratchOffset) {
        weightedValues(layer, kvHead, weights, weightsOffset, positions, out, outOffset, scratch, scratchOffset,
                false);
    }

    /**
     * As {@link #weightedValues(int, int, float[], int, int, float[], int, float[], int)}, summed as llama.cpp sums
     * a batch ({@code batch} true) or a single token.
     *
     * <p>llama.cpp's V·softmax is one dot product per output dimension over the positions, padded with zero
     * weights to a multiple of 32. Here each position's row is added into lane slots (position p to slot p mod 32
     * for ggml_vec_dot, p mod 8 for tinyBLAS) for all dimensions at once, which is the same per-dimension
     * arithmetic, then the slots are reduced in the kernel's order.
     */
    public abstract void weightedValues(int layer, int kvHead, float[] weights, int weightsOffset, int positions,
            float[] out, int outOffset, float[] scratch, int scratchOffset, boolean batch);

    /**
     * Reduces the 32 slots of {@code scratch} (slot j of dimension i at {@code scratchOffset + j * headDim + i})
     * into {@code out} in the order of ggml_vec_dot (batch false: slot = accumulator * 8 + lane) or tinyBLAS (batch
     * true: slots 0-7 are its lanes).
     */
    protected final void reduceSlots(float[] s, int o, float[] out, int outOffset, boolean batch) {
        int hd = headDim;
        if (batch && hd % 8 == 0 && Simd.ENABLED) {
            Simd.tinyBlasSlotSums(s, o, hd, out, outOffset);
            return;
        }
        for (int i = 0; i < hd; i++) {
            int b = o + i;
            out[outOffset + i] = batch
                    ? GgmlSums.tinyBlasHsum(s[b], s[b + hd], s[b + 2 * hd], s[b + 3 * hd], s[b + 4 * hd],
                            s[b + 5 * hd], s[b + 6 * hd], s[b + 7 * hd])
                    : GgmlSums.reduce32(s, b, hd);
        }
    }

    // ---- validity ---------------------------------------------------------------------------------------------

    /** Marks (layer, position) as included in (true) or excluded from (false) that layer's attention. */
    public final void setValid(int layer, int position, boolean valid) {
        checkPosition(position);
        long bit = 1L << (position & 63);
        long[] words = invalid[layer];
        int w = position >>> 6;
        boolean wasInvalid = (words[w] & bit) != 0;
        if (valid && wasInvalid) {
            words[w] &= ~bit;
            invalidCount[layer]--;
        } else if (!valid && !wasInvalid) {
            words[w] |= bit;
            invalidCount[layer]++;
        }
    }

    public final boolean isValid(int layer, int position) {
        return (invalid[layer][position >>> 6] & (1L << (position & 63))) == 0;
    }

    /** True when some position of this layer is excluded, so attention must consult {@link #isValid}. */
    public final boolean hasInvalid(int layer) {
        return invalidCount[layer] != 0;
    }

    /** Forgets all rows' validity marks (rows themselves are overwritten as positions are reused). */
    public void reset() {
        for (int l = 0; l < layerCount; l++) {
            Arrays.fill(invalid[l], 0L);
            invalidCount[l] = 0;
        }
    }

    protected final void checkPosition(int position) {
        if (position < 0 || position >= contextLength) {
            throw new IndexOutOfBoundsException("position " + position + " outside the KV cache's context of "
                    + contextLength);
        }
    }

    protected static void checkLength(int positions, int contextLength) {
        if (positions < 0 || positions > contextLength) {
            throw new IndexOutOfBoundsException(positions + " positions exceed the KV cache's context of "
                    + contextLength);
        }
    }
}
