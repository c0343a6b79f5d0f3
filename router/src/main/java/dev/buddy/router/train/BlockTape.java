package dev.buddy.router.train;

import dev.buddy.engine.model.ModelSpec;

/**
 * What one block's forward pass keeps for its backward pass, for up to {@code capacity} positions. All buffers are
 * row-major {@code positions × width} and allocated once.
 */
final class BlockTape {
    /** Block input h. */
    final float[] input;
    /** RMSNorm(h) with the attention norm weight, and its 1/rms per position. */
    final float[] attnNormed;
    final float[] attnInvRms;
    /** Q and K after bias, before the per-head norm (Qwen3 only), and the per-head 1/rms. */
    final float[] queryRaw;
    final float[] keyRaw;
    final float[] queryInvRms;
    final float[] keyInvRms;
    /** Q, K after norm and RoPE; V after bias: exactly what the KV cache would hold. */
    final float[] query;
    final float[] key;
    final float[] value;
    /** Attention probabilities [head][t][s]. */
    final float[] probs;
    /** Concatenated head outputs, before the output projection. */
    final float[] attention;
    /** h + attention projection: the FFN's residual input. */
    final float[] mid;
    final float[] ffnNormed;
    final float[] ffnInvRms;
    final float[] gate;
    final float[] up;
    final float[] activation;
    /** F(h) = block(h) − h: what the block adds to the residual stream, scaled by its gate. */
    final float[] delta;
    /** This block's LoRA adapters while training with {@code --lora}, or null: the base block only. */
    dev.buddy.router.lora.LoraBlock lora;

    BlockTape(ModelSpec spec, int capacity, int probabilitySize) {
        int dim = spec.embeddingLength();
        int qDim = spec.queryDim();
        int kvDim = spec.kvDim();
        int ffn = spec.feedForwardLength();
        input = new float[capacity * dim];
        attnNormed = new float[capacity * dim];
        attnInvRms = new float[capacity];
        boolean qkNorm = spec.qkNorm();
        queryRaw = new float[qkNorm ? capacity * qDim : 0];
        keyRaw = new float[qkNorm ? capacity * kvDim : 0];
        queryInvRms = new float[qkNorm ? capacity * spec.headCount() : 0];
        keyInvRms = new float[qkNorm ? capacity * spec.headCountKv() : 0];
        query = new float[capacity * qDim];
        key = new float[capacity * kvDim];
        value = new float[capacity * kvDim];
        probs = new float[probabilitySize];
        attention = new float[capacity * qDim];
        mid = new float[capacity * dim];
        ffnNormed = new float[capacity * dim];
        ffnInvRms = new float[capacity];
        gate = new float[capacity * ffn];
        up = new float[capacity * ffn];
        activation = new float[capacity * ffn];
        delta = new float[capacity * dim];
    }
}
