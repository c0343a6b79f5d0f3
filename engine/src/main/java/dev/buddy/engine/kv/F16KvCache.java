package dev.buddy.engine.kv;

import java.util.Arrays;

/**
 * KV rows as IEEE half floats (round to nearest even, as ggml's FP32→FP16 conversion). Attention mirrors llama.cpp's
 * CPU path for an F16 cache: the query and the softmax weights are rounded to F16, and products of two F16 values
 * (exact in F32) are summed in F32.
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

    @Override
    public void keyScores(int layer, int kvHead, float[] query, int queryOffset, int positions, float scale,
            float[] scores, int scoresOffset) {
        checkLength(positions, contextLength);
        short[] k = keys[layer];
        int hd = headDim;
        for (int p = 0; p < positions; p++) {
            int base = p * kvDim + kvHead * hd;
            float dot = 0f;
            for (int i = 0; i < hd; i++) {
                dot += Float.float16ToFloat(k[base + i]) * query[queryOffset + i];
            }
            scores[scoresOffset + p] = dot * scale;
        }
    }

    @Override
    public void weightedValues(int layer, int kvHead, float[] weights, int weightsOffset, int positions,
            float[] out, int outOffset) {
        checkLength(positions, contextLength);
        short[] v = values[layer];
        int hd = headDim;
        Arrays.fill(out, outOffset, outOffset + hd, 0f);
        for (int p = 0; p < positions; p++) {
            float w = Float.float16ToFloat(Float.floatToFloat16(weights[weightsOffset + p]));
            if (w == 0f) {
                continue; // masked, underflowed, or below F16's smallest subnormal: adds exactly nothing
            }
            int base = p * kvDim + kvHead * hd;
            for (int i = 0; i < hd; i++) {
                out[outOffset + i] += w * Float.float16ToFloat(v[base + i]);
            }
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
