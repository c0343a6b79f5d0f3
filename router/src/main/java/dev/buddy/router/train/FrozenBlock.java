package dev.buddy.router.train;

import dev.buddy.engine.tensor.WeightMatrix;

/**
 * One transformer block's frozen weights: matrices stay in their stored format, the small vectors (norm weights,
 * biases) are decoded to float once.
 *
 * @param attnNorm  {@code blk.N.attn_norm.weight}
 * @param query     {@code blk.N.attn_q.weight}, rows = heads·headDim
 * @param key       {@code blk.N.attn_k.weight}, rows = kvHeads·headDim
 * @param value     {@code blk.N.attn_v.weight}, rows = kvHeads·headDim
 * @param output    {@code blk.N.attn_output.weight}, rows = embedding length
 * @param queryBias {@code blk.N.attn_q.bias} or null
 * @param keyBias   {@code blk.N.attn_k.bias} or null
 * @param valueBias {@code blk.N.attn_v.bias} or null
 * @param queryNorm {@code blk.N.attn_q_norm.weight} (per-head, headDim values) or null
 * @param keyNorm   {@code blk.N.attn_k_norm.weight} or null
 * @param ffnNorm   {@code blk.N.ffn_norm.weight}
 * @param gate      {@code blk.N.ffn_gate.weight}
 * @param up        {@code blk.N.ffn_up.weight}
 * @param down      {@code blk.N.ffn_down.weight}
 */
record FrozenBlock(float[] attnNorm, WeightMatrix query, WeightMatrix key, WeightMatrix value, WeightMatrix output,
                   float[] queryBias, float[] keyBias, float[] valueBias, float[] queryNorm, float[] keyNorm,
                   float[] ffnNorm, WeightMatrix gate, WeightMatrix up, WeightMatrix down) {
}
