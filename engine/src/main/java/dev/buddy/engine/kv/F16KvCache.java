package dev.buddy.engine.kv;

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
     * K·q per position, summed as ggml_vec_dot_f16 does on x86 (AVX2/F16C): the first {@code headDim & ~31}
     * products go to 4 × 8 float lanes (lane = i mod 8, accumulator = (i / 8) mod 4), which are reduced in ggml's
     * fixed order; the remaining products are added in double. F16 × F16 products are exact in float.
     */
    @Override
    public void keyScores(int layer, int kvHead, float[] query, int queryOffset, int positions, float scale,
            float[] scores, int scoresOffset) {
        checkLength(positions, contextLength);
        short[] k = keys[layer];
        int hd = headDim;
        int simd = hd & ~31;
        for (int p = 0; p < positions; p++) {
            int base = p * kvDim + kvHead * hd;
            double sum = simd == 0 ? 0.0 : reduce(k, base, query, queryOffset, simd);
            for (int i = simd; i < hd; i++) {
                sum += Float.float16ToFloat(k[base + i]) * query[queryOffset + i];
            }
            scores[scoresOffset + p] = (float) sum * scale;
        }
    }

    /** The 32-lane sum of x[xo + i] * y[yo + i] over i in [0, n), n a multiple of 32, in ggml's order. */
    private static float reduce(short[] x, int xo, float[] y, int yo, int n) {
        float s0 = lanePair(x, xo, y, yo, n, 0);
        float s1 = lanePair(x, xo, y, yo, n, 1);
        float s2 = lanePair(x, xo, y, yo, n, 2);
        float s3 = lanePair(x, xo, y, yo, n, 3);
        float s4 = lanePair(x, xo, y, yo, n, 4);
        float s5 = lanePair(x, xo, y, yo, n, 5);
        float s6 = lanePair(x, xo, y, yo, n, 6);
        float s7 = lanePair(x, xo, y, yo, n, 7);
        return finish(s0, s1, s2, s3, s4, s5, s6, s7);
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

    /** The last steps of the reduction: 128-bit halves added lane-wise, then two horizontal adds. */
    private static float finish(float s0, float s1, float s2, float s3, float s4, float s5, float s6, float s7) {
        float t0 = s0 + s4;
        float t1 = s1 + s5;
        float t2 = s2 + s6;
        float t3 = s3 + s7;
        return (t0 + t1) + (t2 + t3);
    }

    @Override
    public int valueScratchSize() {
        return 32 * headDim;
    }

    /**
     * softmax·V as llama.cpp computes it for an F16 V cache: the weights rounded to F16, then for every dimension a
     * ggml_vec_dot_f16 over positions (the position count is padded to a multiple of 32 with zero weights, so all of
     * it goes through the 4 × 8 lanes: position p lands in lane p mod 8 of accumulator (p / 8) mod 4).
     */
    @Override
    public void weightedValues(int layer, int kvHead, float[] weights, int weightsOffset, int positions,
            float[] out, int outOffset, float[] scratch, int scratchOffset) {
        checkLength(positions, contextLength);
        short[] v = values[layer];
        int hd = headDim;
        Arrays.fill(scratch, scratchOffset, scratchOffset + 32 * hd, 0f);
        for (int p = 0; p < positions; p++) {
            float w = Float.float16ToFloat(Float.floatToFloat16(weights[weightsOffset + p]));
            if (w == 0f) {
                continue; // masked, underflowed, or below F16's smallest subnormal: adds exactly nothing
            }
            int lanes = scratchOffset + (p & 31) * hd; // slot (p / 8) mod 4 * 8 + p mod 8 == p mod 32
            int base = p * kvDim + kvHead * hd;
            for (int i = 0; i < hd; i++) {
                scratch[lanes + i] += w * Float.float16ToFloat(v[base + i]);
            }
        }
        for (int i = 0; i < hd; i++) {
            float[] s = scratch;
            int o = scratchOffset + i;
            // Slot (j * 8 + l) holds accumulator j, lane l; combine as GGML_F32Cx8_REDUCE.
            float l0 = (s[o] + s[o + 16 * hd]) + (s[o + 8 * hd] + s[o + 24 * hd]);
            float l1 = (s[o + hd] + s[o + 17 * hd]) + (s[o + 9 * hd] + s[o + 25 * hd]);
            float l2 = (s[o + 2 * hd] + s[o + 18 * hd]) + (s[o + 10 * hd] + s[o + 26 * hd]);
            float l3 = (s[o + 3 * hd] + s[o + 19 * hd]) + (s[o + 11 * hd] + s[o + 27 * hd]);
            float l4 = (s[o + 4 * hd] + s[o + 20 * hd]) + (s[o + 12 * hd] + s[o + 28 * hd]);
            float l5 = (s[o + 5 * hd] + s[o + 21 * hd]) + (s[o + 13 * hd] + s[o + 29 * hd]);
            float l6 = (s[o + 6 * hd] + s[o + 22 * hd]) + (s[o + 14 * hd] + s[o + 30 * hd]);
            float l7 = (s[o + 7 * hd] + s[o + 23 * hd]) + (s[o + 15 * hd] + s[o + 31 * hd]);
            out[outOffset + i] = finish(l0, l1, l2, l3, l4, l5, l6, l7);
        }
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
