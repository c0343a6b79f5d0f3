package dev.buddy.engine.kv;

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

    @Override
    public void keyScores(int layer, int kvHead, float[] query, int queryOffset, int positions, float scale,
            float[] scores, int scoresOffset) {
        checkLength(positions, contextLength);
        float[] k = keys[layer];
        int hd = headDim;
        for (int p = 0; p < positions; p++) {
            int base = p * kvDim + kvHead * hd;
            float dot = 0f;
            for (int i = 0; i < hd; i++) {
                dot += k[base + i] * query[queryOffset + i];
            }
            scores[scoresOffset + p] = dot * scale;
        }
    }

    @Override
    public int valueScratchSize() {
        return 0;
    }

    @Override
    public void weightedValues(int layer, int kvHead, float[] weights, int weightsOffset, int positions,
            float[] out, int outOffset, float[] scratch, int scratchOffset) {
        checkLength(positions, contextLength);
        float[] v = values[layer];
        int hd = headDim;
        Arrays.fill(out, outOffset, outOffset + hd, 0f);
        for (int p = 0; p < positions; p++) {
            float w = weights[weightsOffset + p];
            if (w == 0f) {
                continue; // masked or underflowed: adds exactly nothing
            }
            int base = p * kvDim + kvHead * hd;
            for (int i = 0; i < hd; i++) {
                out[outOffset + i] += w * v[base + i];
            }
        }
    }
}
