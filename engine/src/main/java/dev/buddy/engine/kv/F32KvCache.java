package dev.buddy.engine.kv;

import dev.buddy.engine.tensor.GgmlSums;
import java.util.Arrays;

/** KV rows as 32-bit floats. */
final class F32KvCache extends KvCache {
    private final float[][] keys;
    private final float[][] values;

    F32KvCache(int layerCount, int contextLength, int kvHeadCount, int headDim) {
        super(layerCount, contextLength, kvHeadCount, headDim);
        keys = new float[layerCount][contextLength * kvDim];
        values = new float[layerCount][contextLength * kvDim];
    }

    @Override
    public KvCacheType type() {
        return KvCacheType.F32;
    }

    @Override
    public long byteSize() {
        return 2L * layerCount * contextLength * kvDim * Float.BYTES;
    }

    @Override
    public void storeKey(int layer, int position, float[] key, int offset) {
        checkPosition(position);
        System.arraycopy(key, offset, keys[layer], position * kvDim, kvDim);
    }

    @Override
    public void storeValue(int layer, int position, float[] value, int offset) {
        checkPosition(position);
        System.arraycopy(value, offset, values[layer], position * kvDim, kvDim);
    }

    @Override
    public void readKey(int layer, int position, float[] dst, int offset) {
        checkPosition(position);
        System.arraycopy(keys[layer], position * kvDim, dst, offset, kvDim);
    }

    @Override
    public void readValue(int layer, int position, float[] dst, int offset) {
        checkPosition(position);
        System.arraycopy(values[layer], position * kvDim, dst, offset, kvDim);
    }

    @Override
    public void zero(int layer, int position) {
        checkPosition(position);
        int from = position * kvDim;
        Arrays.fill(keys[layer], from, from + kvDim, 0f);
        Arrays.fill(values[layer], from, from + kvDim, 0f);
    }

    @Override
    public void prepareQuery(float[] q, int qOffset, float[] dst, int dstOffset) {
        System.arraycopy(q, qOffset, dst, dstOffset, headDim);
    }

    /** ggml_vec_dot_f32 (both for one token and for a batch: tinyBLAS declines the strided query there). */
    @Override
    public void keyScores(int layer, int kvHead, float[] query, int queryOffset, int positions, float scale,
            float[] scores, int scoresOffset, boolean batch) {
        checkLength(positions, contextLength);
        float[] k = keys[layer];
        int hd = headDim;
        int np = hd & ~31;
        for (int p = 0; p < positions; p++) {
            int base = p * kvDim + kvHead * hd;
            float sum = 0f;
            if (np > 0) {
                sum = Simd.ENABLED ? Simd.vecDotF32Lanes(k, base, query, queryOffset, np)
                        : vecDotF32Lanes(k, base, query, queryOffset, np);
            }
            scores[scoresOffset + p] = GgmlSums.tailF32(k, base, query, queryOffset, np, hd, sum) * scale;
        }
    }

    /** The 4 × 8-lane FMA part of ggml_vec_dot_f32 over the first {@code np} (a multiple of 32) elements. */
    static float vecDotF32Lanes(float[] x, int xo, float[] y, int yo, int np) {
        // One call per lane instead of a float[8] of lane sums: this runs once per key and query, and must not
        // allocate.
        return GgmlSums.finishReduce(lanePair(x, xo, y, yo, np, 0), lanePair(x, xo, y, yo, np, 1),
                lanePair(x, xo, y, yo, np, 2), lanePair(x, xo, y, yo, np, 3), lanePair(x, xo, y, yo, np, 4),
                lanePair(x, xo, y, yo, np, 5), lanePair(x, xo, y, yo, np, 6), lanePair(x, xo, y, yo, np, 7));
    }

    /** Lane {@code lane} of the four 8-lane FMA accumulators, combined as (acc0 + acc2) + (acc1 + acc3). */
    private static float lanePair(float[] x, int xo, float[] y, int yo, int np, int lane) {
        float a0 = 0f;
        float a1 = 0f;
        float a2 = 0f;
        float a3 = 0f;
        for (int i = lane; i < np; i += 32) {
            a0 = Math.fma(x[xo + i], y[yo + i], a0);
            a1 = Math.fma(x[xo + i + 8], y[yo + i + 8], a1);
            a2 = Math.fma(x[xo + i + 16], y[yo + i + 16], a2);
            a3 = Math.fma(x[xo + i + 24], y[yo + i + 24], a3);
        }
        return (a0 + a2) + (a1 + a3);
    }

    /**
     * ggml_vec_dot_f32 over the positions for one token (slot p mod 32), tinyBLAS for a batch (slot p mod 8); both
     * accumulate by FMA.
     */
    @Override
    public void weightedValues(int layer, int kvHead, float[] weights, int weightsOffset, int positions,
            float[] out, int outOffset, float[] scratch, int scratchOffset, boolean batch) {
        checkLength(positions, contextLength);
        float[] v = values[layer];
        int hd = headDim;
        int slotMask = batch ? 7 : 31;
        Arrays.fill(scratch, scratchOffset, scratchOffset + (slotMask + 1) * hd, 0f);
        for (int p = 0; p < positions; p++) {
            float w = weights[weightsOffset + p];
            if (w == 0f) {
                continue; // masked or underflowed: FMA with a zero weight leaves every lane unchanged
            }
            int lanes = scratchOffset + (p & slotMask) * hd;
            int base = p * kvDim + kvHead * hd;
            if (Simd.ENABLED) {
                Simd.fmaRow(w, v, base, scratch, lanes, hd);
            } else {
                for (int i = 0; i < hd; i++) {
                    scratch[lanes + i] = Math.fma(w, v[base + i], scratch[lanes + i]);
                }
            }
        }
        reduceSlots(scratch, scratchOffset, out, outOffset, batch);
    }
}
