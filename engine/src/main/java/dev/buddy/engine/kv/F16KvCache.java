package dev.buddy.engine.kv;

import dev.buddy.engine.tensor.GgmlSums;
import java.util.Arrays;

/**
 * KV rows as IEEE half floats (round to nearest even, as ggml's FP32→FP16 conversion). Attention mirrors llama.cpp's
 * CPU path for an F16 cache: the query and the softmax weights are rounded to F16, and the products of two F16
 * values (exact in float) are summed in the lane order of ggml's x86 {@code ggml_vec_dot_f16}.
 */
final class F16KvCache extends KvCache {
    private final short[][] keys;
    private final short[][] values;

    F16KvCache(int layerCount, int contextLength, int kvHeadCount, int headDim) {
        super(layerCount, contextLength, kvHeadCount, headDim);
        keys = new short[layerCount][contextLength * kvDim];
        values = new short[layerCount][contextLength * kvDim];
    }

    @Override
    public KvCacheType type() {
        return KvCacheType.F16;
    }

    @Override
    public long byteSize() {
        return 2L * layerCount * contextLength * kvDim * Short.BYTES;
    }

    @Override
    public void storeKey(int layer, int position, float[] key, int offset) {
        checkPosition(position);
        toHalf(key, offset, keys[layer], position * kvDim, kvDim);
    }

    @Override
    public void storeValue(int layer, int position, float[] value, int offset) {
        checkPosition(position);
        toHalf(value, offset, values[layer], position * kvDim, kvDim);
    }

    @Override
    public void readKey(int layer, int position, float[] dst, int offset) {
        checkPosition(position);
        toFloat(keys[layer], position * kvDim, dst, offset, kvDim);
    }

    @Override
    public void readValue(int layer, int position, float[] dst, int offset) {
        checkPosition(position);
        toFloat(values[layer], position * kvDim, dst, offset, kvDim);
    }

    @Override
    public void zero(int layer, int position) {
        checkPosition(position);
        int from = position * kvDim;
        Arrays.fill(keys[layer], from, from + kvDim, (short) 0);
        Arrays.fill(values[layer], from, from + kvDim, (short) 0);
    }

    @Override
    public void prepareQuery(float[] q, int qOffset, float[] dst, int dstOffset) {
        for (int i = 0; i < headDim; i++) {
            dst[dstOffset + i] = Float.float16ToFloat(Float.floatToFloat16(q[qOffset + i]));
        }
    }

    /**
     * K·q per position. One token: ggml_vec_dot_f16 on x86 (AVX2/F16C): the first {@code headDim & ~31} products
     * go to 4 × 8 float lanes (lane = i mod 8, accumulator = (i / 8) mod 4), reduced in ggml's fixed order, and the
     * remaining products are added in double. A batch, when the head size is a multiple of 8: tinyBLAS, 8 lanes
     * (lane = i mod 8) and its hsum. F16 × F16 products are exact in float, so FMA or not makes no difference.
     */
    @Override
    public void keyScores(int layer, int kvHead, float[] query, int queryOffset, int positions, float scale,
            float[] scores, int scoresOffset, boolean batch) {
        checkLength(positions, contextLength);
        short[] k = keys[layer];
        int hd = headDim;
        boolean tinyBlas = batch && hd % 8 == 0;
        int simd = hd & ~31;
        for (int p = 0; p < positions; p++) {
            int base = p * kvDim + kvHead * hd;
            float dot;
            if (tinyBlas) {
                dot = Simd.ENABLED ? Simd.tinyBlasDotF16(k, base, query, queryOffset, hd)
                        : tinyBlasDot(k, base, query, queryOffset, hd);
            } else {
                double sum = simd == 0 ? 0.0
                        : Simd.ENABLED ? Simd.vecDotF16Lanes(k, base, query, queryOffset, simd)
                                : reduce(k, base, query, queryOffset, simd);
                for (int i = simd; i < hd; i++) {
                    sum += Float.float16ToFloat(k[base + i]) * query[queryOffset + i];
                }
                dot = (float) sum;
            }
            scores[scoresOffset + p] = dot * scale;
        }
    }

    /** The group kernels serve a batch's (tinyBLAS) order, 8-wide heads, 256-bit vectors and two or more queries. */
    private boolean groupKernels(boolean batch, int count) {
        return batch && headDim % 8 == 0 && Simd.ENABLED && count > 1;
    }

    /**
     * A batch's scores for a GQA group four queries at a time, each key row widened once per four queries
     * ({@link Simd#tinyBlasScoresF16x4}); other cases, and a lone query, as {@link #keyScores}.
     */
    @Override
    public void keyScoresGroup(int layer, int kvHead, float[] queries, int queryOffset, int count, int positions,
            float scale, float[] scores, int scoresOffset, int scoresStride, boolean batch) {
        if (!groupKernels(batch, count)) {
            super.keyScoresGroup(layer, kvHead, queries, queryOffset, count, positions, scale, scores, scoresOffset,
                    scoresStride, batch);
            return;
        }
        checkLength(positions, contextLength);
        int hd = headDim;
        for (int j = 0; j < count; j += 4) {
            // Queries past the group's end repeat its last one: the same score, written twice.
            int q0 = queryOffset + j * hd;
            int q1 = queryOffset + Math.min(j + 1, count - 1) * hd;
            int q2 = queryOffset + Math.min(j + 2, count - 1) * hd;
            int q3 = queryOffset + Math.min(j + 3, count - 1) * hd;
            int s0 = scoresOffset + j * scoresStride;
            int s1 = scoresOffset + Math.min(j + 1, count - 1) * scoresStride;
            int s2 = scoresOffset + Math.min(j + 2, count - 1) * scoresStride;
            int s3 = scoresOffset + Math.min(j + 3, count - 1) * scoresStride;
            Simd.tinyBlasScoresF16x4(keys[layer], kvHead * hd, kvDim, positions, hd, queries, q0, q1, q2, q3, scale,
                    scores, s0, s1, s2, s3);
        }
    }

    /**
     * A batch's softmax·V for a GQA group four queries at a time, each value row widened once per four queries
     * ({@link Simd#addScaledHalfRowsx4}); other cases, and a lone query, as {@link #weightedValues}.
     */
    @Override
    public void weightedValuesGroup(int layer, int kvHead, float[] weights, int weightsOffset, int weightsStride,
            int count, int positions, float[] out, int outOffset, float[] scratch, int scratchOffset, boolean batch) {
        if (!groupKernels(batch, count)) {
            super.weightedValuesGroup(layer, kvHead, weights, weightsOffset, weightsStride, count, positions, out,
                    outOffset, scratch, scratchOffset, batch);
            return;
        }
        checkLength(positions, contextLength);
        int hd = headDim;
        int stride = valueScratchSize();
        for (int j = 0; j < count; j++) {
            Arrays.fill(scratch, scratchOffset + j * stride, scratchOffset + j * stride + 8 * hd, 0f);
        }
        for (int j = 0; j < count; j += 4) {
            int j1 = Math.min(j + 1, count - 1);
            int j2 = Math.min(j + 2, count - 1);
            int j3 = Math.min(j + 3, count - 1);
            // Past the group's end the last query repeats, inactive (weight zero), so nothing is added twice.
            Simd.addScaledHalfRowsx4(values[layer], kvHead * hd, kvDim, positions, hd, 7, weights,
                    Math.min(4, count - j), weightsOffset + j * weightsStride, weightsOffset + j1 * weightsStride,
                    weightsOffset + j2 * weightsStride, weightsOffset + j3 * weightsStride, scratch,
                    scratchOffset + j * stride, scratchOffset + j1 * stride, scratchOffset + j2 * stride,
                    scratchOffset + j3 * stride);
        }
        for (int j = 0; j < count; j++) {
            reduceSlots(scratch, scratchOffset + j * stride, out, outOffset + j * hd, true);
        }
    }

    /** tinyBLAS's F16 dot: 8 lanes over n (a multiple of 8) elements, then its hsum. */
    static float tinyBlasDot(short[] x, int xo, float[] y, int yo, int n) {
        // Eight named accumulators, not a float[8]: this runs once per key and query, and must not allocate.
        float l0 = 0f, l1 = 0f, l2 = 0f, l3 = 0f, l4 = 0f, l5 = 0f, l6 = 0f, l7 = 0f;
        for (int i = 0; i < n; i += 8) {
            l0 += Float.float16ToFloat(x[xo + i]) * y[yo + i];
            l1 += Float.float16ToFloat(x[xo + i + 1]) * y[yo + i + 1];
            l2 += Float.float16ToFloat(x[xo + i + 2]) * y[yo + i + 2];
            l3 += Float.float16ToFloat(x[xo + i + 3]) * y[yo + i + 3];
            l4 += Float.float16ToFloat(x[xo + i + 4]) * y[yo + i + 4];
            l5 += Float.float16ToFloat(x[xo + i + 5]) * y[yo + i + 5];
            l6 += Float.float16ToFloat(x[xo + i + 6]) * y[yo + i + 6];
            l7 += Float.float16ToFloat(x[xo + i + 7]) * y[yo + i + 7];
        }
        return GgmlSums.tinyBlasHsum(l0, l1, l2, l3, l4, l5, l6, l7);
    }

    /** The 32-lane sum of x[xo + i] * y[yo + i] over i in [0, n), n a multiple of 32, in ggml's order. */
    static float reduce(short[] x, int xo, float[] y, int yo, int n) {
        float s0 = lanePair(x, xo, y, yo, n, 0);
        float s1 = lanePair(x, xo, y, yo, n, 1);
        float s2 = lanePair(x, xo, y, yo, n, 2);
        float s3 = lanePair(x, xo, y, yo, n, 3);
        float s4 = lanePair(x, xo, y, yo, n, 4);
        float s5 = lanePair(x, xo, y, yo, n, 5);
        float s6 = lanePair(x, xo, y, yo, n, 6);
        float s7 = lanePair(x, xo, y, yo, n, 7);
        return GgmlSums.finishReduce(s0, s1, s2, s3, s4, s5, s6, s7);
    }

    /** Lane l of GGML_F32Cx8_REDUCE's first two steps: (acc0 + acc2) + (acc1 + acc3). */
    private static float lanePair(short[] x, int xo, float[] y, int yo, int n, int lane) {
        float a0 = 0f;
        float a1 = 0f;
        float a2 = 0f;
        float a3 = 0f;
        for (int i = lane; i < n; i += 32) {
            a0 += Float.float16ToFloat(x[xo + i]) * y[yo + i];
            a1 += Float.float16ToFloat(x[xo + i + 8]) * y[yo + i + 8];
            a2 += Float.float16ToFloat(x[xo + i + 16]) * y[yo + i + 16];
            a3 += Float.float16ToFloat(x[xo + i + 24]) * y[yo + i + 24];
        }
        return (a0 + a2) + (a1 + a3);
    }

    /**
     * softmax·V as llama.cpp computes it for an F16 V cache: the weights rounded to F16, then for every dimension a
     * dot product over the positions (padded to a multiple of 32 with zero weights): ggml_vec_dot_f16 for one token
     * (position p in lane p mod 8 of accumulator (p / 8) mod 4, i.e. slot p mod 32), tinyBLAS for a batch when the
     * head size is a multiple of 4 (slot p mod 8).
     */
    @Override
    public void weightedValues(int layer, int kvHead, float[] weights, int weightsOffset, int positions,
            float[] out, int outOffset, float[] scratch, int scratchOffset, boolean batch) {
        checkLength(positions, contextLength);
        short[] v = values[layer];
        int hd = headDim;
        boolean tinyBlas = batch && hd % 4 == 0;
        int slotMask = tinyBlas ? 7 : 31;
        Arrays.fill(scratch, scratchOffset, scratchOffset + (slotMask + 1) * hd, 0f);
        for (int p = 0; p < positions; p++) {
            float w = Float.float16ToFloat(Float.floatToFloat16(weights[weightsOffset + p]));
            if (w == 0f) {
                continue; // masked, underflowed, or below F16's smallest subnormal: adds exactly nothing
            }
            int lanes = scratchOffset + (p & slotMask) * hd;
            int base = p * kvDim + kvHead * hd;
            if (Simd.ENABLED) {
                Simd.addScaledHalfRow(w, v, base, scratch, lanes, hd);
            } else {
                for (int i = 0; i < hd; i++) {
                    scratch[lanes + i] += w * Float.float16ToFloat(v[base + i]);
                }
            }
        }
        reduceSlots(scratch, scratchOffset, out, outOffset, tinyBlas);
    }

    private static void toHalf(float[] src, int srcOffset, short[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = Float.floatToFloat16(src[srcOffset + i]);
        }
    }

    private static void toFloat(short[] src, int srcOffset, float[] dst, int dstOffset, int n) {
        for (int i = 0; i < n; i++) {
            dst[dstOffset + i] = Float.float16ToFloat(src[srcOffset + i]);
        }
    }
}
