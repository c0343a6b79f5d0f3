package dev.buddy.engine.model;

import dev.buddy.engine.tensor.WeightMatrix;

/**
 * One transformer block's tensors ({@code blk.N.*}). Biases and Q/K norms are null when the spec says the family
 * has none.
 */
public record LayerWeights(
        float[] attentionNorm,
        WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
        float[] bq, float[] bk, float[] bv,
        float[] qNorm, float[] kNorm,
        float[] ffnNorm,
        WeightMatrix ffnGate, WeightMatrix ffnUp, WeightMatrix ffnDown) {
}
