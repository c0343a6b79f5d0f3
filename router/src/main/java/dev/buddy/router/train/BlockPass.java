package dev.buddy.router.train;

import java.util.Arrays;

import dev.buddy.engine.model.LayerWeights;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.WeightMatrix;
import dev.buddy.router.lora.LoraBlock;
import dev.buddy.router.lora.LoraTarget;

/**
 * Forward and backward of one pre-norm transformer block's residual branch over a whole sequence:
 * {@code F(h) = a + f}, where {@code a = Wo·Attn(RoPE(norm_qk(Wq·n1 + bq)), RoPE(norm_qk(Wk·n1 + bk)), Wv·n1 + bv)}
 * with {@code n1 = RMSNorm(h)}, and {@code f = Wd·(silu(Wg·n2) ⊙ Wu·n2)} with {@code n2 = RMSNorm(h + a)}. The
 * caller adds {@code m·F(h)} to the residual stream, m being the block's gate.
 *
 * <p>Every projection runs as a positions × features GEMM through {@link WeightMatrix#matmul}; every input
 * gradient through {@link TransposedProduct}. The base weights are never written or expanded.
 *
 * <p>The backward pass returns {@code J_Fᵀ·g = u + J_aᵀ·(g + u)} with {@code u = J_fᵀ·g}: F's own Jacobian, not
 * the block's (the caller owns the residual). The buffers here are scratch shared by all blocks, since backward runs
 * one block at a time.
 */
final class BlockPass {
    private final ModelSpec spec;
    private final int capacity;
    private final RopeRotation rope;
    private final CausalAttention attention;
    private final float[] dActivation;
    private final float[] dGate;
    private final float[] dUp;
    private final float[] dFfnNormed;
    private final float[] dMid;
    private final float[] dAttention;
    private final float[] dQuery;
    private final float[] dKey;
    private final float[] dValue;
    private final float[] dQueryRaw;
    private final float[] dKeyRaw;
    private final float[] dAttnNormed;

    BlockPass(ModelSpec spec, RopeRotation rope, int capacity) {
        this.spec = spec;
        this.capacity = capacity;
        this.rope = rope;
        this.attention = new CausalAttention(spec.headCount(), spec.headCountKv(), spec.headDim(), capacity);
        int dim = spec.embeddingLength();
        int qDim = spec.queryDim();
        int kvDim = spec.kvDim();
        int ffn = spec.feedForwardLength();
        dActivation = new float[capacity * ffn];
        dGate = new float[capacity * ffn];
        dUp = new float[capacity * ffn];
        dFfnNormed = new float[capacity * dim];
        dMid = new float[capacity * dim];
        dAttention = new float[capacity * qDim];
        dQuery = new float[capacity * qDim];
        dKey = new float[capacity * kvDim];
        dValue = new float[capacity * kvDim];
        dQueryRaw = new float[spec.qkNorm() ? capacity * qDim : 0];
        dKeyRaw = new float[spec.qkNorm() ? capacity * kvDim : 0];
        dAttnNormed = new float[capacity * dim];
    }

    BlockTape newTape() {
        return new BlockTape(spec, capacity, attention.probabilitySize());
    }

    /**
     * Computes {@code tape.delta = F(tape.input)} for positions {@code start .. start+n}, keeping what backward needs.
     * The caller has filled {@code tape.input}.
     */
    void forward(LayerWeights w, BlockTape tape, int start, int n, Parallel pool) {
        forward(w, tape, start, n, null, pool);
    }

    /**
     * As {@link #forward(LayerWeights, BlockTape, int, int, Parallel)}, with the key and value rows of the positions
     * where {@code zeroKv[t]} (t from 0, null: none) set to zero before attention: what the engine's KV cache holds
     * for a position that skipped this block under {@code SkippedKvPolicy.ZEROS}. Only a forward pass for scoring;
     * backward is not defined after it.
     */
    void forward(LayerWeights w, BlockTape tape, int start, int n, boolean[] zeroKv, Parallel pool) {
        int dim = spec.embeddingLength();
        int ffn = spec.feedForwardLength();
        float eps = spec.rmsEps();
        RmsNorm.forward(tape.input, n, dim, w.attentionNorm(), eps, tape.attnNormed, tape.attnInvRms);
        if (spec.qkNorm()) {
            project(w.wq(), w.bq(), tape.attnNormed, n, tape.queryRaw, tape.lora, LoraTarget.Q, pool);
            project(w.wk(), w.bk(), tape.attnNormed, n, tape.keyRaw, tape.lora, LoraTarget.K, pool);
            RmsNorm.forward(tape.queryRaw, n * spec.headCount(), spec.headDim(), w.qNorm(), eps, tape.query,
                    tape.queryInvRms);
            RmsNorm.forward(tape.keyRaw, n * spec.headCountKv(), spec.headDim(), w.kNorm(), eps, tape.key,
                    tape.keyInvRms);
        } else {
            project(w.wq(), w.bq(), tape.attnNormed, n, tape.query, tape.lora, LoraTarget.Q, pool);
            project(w.wk(), w.bk(), tape.attnNormed, n, tape.key, tape.lora, LoraTarget.K, pool);
        }
        project(w.wv(), w.bv(), tape.attnNormed, n, tape.value, tape.lora, LoraTarget.V, pool);
        rope.prepare(start, n);
        rope.forward(tape.query, n, spec.headCount(), spec.headDim());
        rope.forward(tape.key, n, spec.headCountKv(), spec.headDim());
        if (zeroKv != null) {
            int kvDim = spec.kvDim();
            for (int t = 0; t < n; t++) {
                if (zeroKv[t]) {
                    java.util.Arrays.fill(tape.key, t * kvDim, (t + 1) * kvDim, 0f);
                    java.util.Arrays.fill(tape.value, t * kvDim, (t + 1) * kvDim, 0f);
                }
            }
        }
        attention.forward(tape.query, tape.key, tape.value, n, tape.probs, tape.attention, pool);
        // a = Wo·attention goes to delta first; mid = h + a.
        w.wo().matmul(tape.attention, n, tape.delta, pool);
        if (tape.lora != null) {
            tape.lora.forward(LoraTarget.O, tape.attention, n, tape.delta, pool);
        }
        for (int i = 0; i < n * dim; i++) {
            tape.mid[i] = tape.input[i] + tape.delta[i];
        }
        RmsNorm.forward(tape.mid, n, dim, w.ffnNorm(), eps, tape.ffnNormed, tape.ffnInvRms);
        w.ffnGate().matmul(tape.ffnNormed, n, tape.gate, pool);
        w.ffnUp().matmul(tape.ffnNormed, n, tape.up, pool);
        if (tape.lora != null) {
            tape.lora.forward(LoraTarget.GATE, tape.ffnNormed, n, tape.gate, pool);
            tape.lora.forward(LoraTarget.UP, tape.ffnNormed, n, tape.up, pool);
        }
        SwiGlu.forward(tape.gate, tape.up, n * ffn, tape.activation);
        // delta = a + f; f is written to dFfnNormed as scratch (free during forward).
        float[] f = dFfnNormed;
        w.ffnDown().matmul(tape.activation, n, f, pool);
        if (tape.lora != null) {
            tape.lora.forward(LoraTarget.DOWN, tape.activation, n, f, pool);
        }
        for (int i = 0; i < n * dim; i++) {
            tape.delta[i] += f[i];
        }
    }

    /** out = W·x (+ the LoRA term, added before the bias, in the order the engine's decorated matrices use) + b. */
    private static void project(WeightMatrix m, float[] bias, float[] x, int n, float[] out, LoraBlock lora,
                                LoraTarget target, Parallel pool) {
        m.matmul(x, n, out, pool);
        if (lora != null) {
            lora.forward(target, x, n, out, pool);
        }
        if (bias != null) {
            int width = m.rows();
            for (int t = 0; t < n; t++) {
                int o = t * width;
                for (int i = 0; i < width; i++) {
                    out[o + i] += bias[i];
                }
            }
        }
    }

    /**
     * Writes {@code J_Fᵀ·g} (F's input gradient for output gradient {@code g}) into {@code dInput}, overwriting it.
     *
     * @param g      {@code n × dim}, the gradient at the block's output
     * @param dInput {@code n × dim}
     */
    void backward(LayerWeights w, BlockTape tape, float[] g, int start, int n, float[] dInput, Parallel pool) {
        int dim = spec.embeddingLength();
        int qDim = spec.queryDim();
        int kvDim = spec.kvDim();
        int ffn = spec.feedForwardLength();
        // FFN: u = J_fᵀ g lands in dMid.
        Arrays.fill(dActivation, 0, n * ffn, 0f);
        TransposedProduct.accumulate(w.ffnDown(), g, n, dActivation, pool);
        if (tape.lora != null) {
            tape.lora.backward(LoraTarget.DOWN, tape.activation, g, n, dActivation, pool);
        }
        SwiGlu.backward(dActivation, tape.gate, tape.up, n * ffn, dGate, dUp);
        Arrays.fill(dFfnNormed, 0, n * dim, 0f);
        TransposedProduct.accumulate(w.ffnGate(), dGate, n, dFfnNormed, pool);
        TransposedProduct.accumulate(w.ffnUp(), dUp, n, dFfnNormed, pool);
        if (tape.lora != null) {
            tape.lora.backward(LoraTarget.GATE, tape.ffnNormed, dGate, n, dFfnNormed, pool);
            tape.lora.backward(LoraTarget.UP, tape.ffnNormed, dUp, n, dFfnNormed, pool);
        }
        Arrays.fill(dMid, 0, n * dim, 0f);
        RmsNorm.backward(dFfnNormed, tape.mid, tape.ffnInvRms, w.ffnNorm(), n, dim, dMid);
        // The result starts as u; the attention path then sees g + u.
        System.arraycopy(dMid, 0, dInput, 0, n * dim);
        for (int i = 0; i < n * dim; i++) {
            dMid[i] += g[i];
        }
        Arrays.fill(dAttention, 0, n * qDim, 0f);
        TransposedProduct.accumulate(w.wo(), dMid, n, dAttention, pool);
        if (tape.lora != null) {
            tape.lora.backward(LoraTarget.O, tape.attention, dMid, n, dAttention, pool);
        }
        attention.backward(dAttention, tape.query, tape.key, tape.value, tape.probs, n, dQuery, dKey, dValue, pool);
        rope.prepare(start, n);
        rope.backward(dQuery, n, spec.headCount(), spec.headDim());
        rope.backward(dKey, n, spec.headCountKv(), spec.headDim());
        float[] dq = dQuery;
        float[] dk = dKey;
        if (spec.qkNorm()) {
            Arrays.fill(dQueryRaw, 0, n * qDim, 0f);
            Arrays.fill(dKeyRaw, 0, n * kvDim, 0f);
            RmsNorm.backward(dQuery, tape.queryRaw, tape.queryInvRms, w.qNorm(), n * spec.headCount(),
                    spec.headDim(), dQueryRaw);
            RmsNorm.backward(dKey, tape.keyRaw, tape.keyInvRms, w.kNorm(), n * spec.headCountKv(),
                    spec.headDim(), dKeyRaw);
            dq = dQueryRaw;
            dk = dKeyRaw;
        }
        Arrays.fill(dAttnNormed, 0, n * dim, 0f);
        TransposedProduct.accumulate(w.wq(), dq, n, dAttnNormed, pool);
        TransposedProduct.accumulate(w.wk(), dk, n, dAttnNormed, pool);
        TransposedProduct.accumulate(w.wv(), dValue, n, dAttnNormed, pool);
        if (tape.lora != null) {
            tape.lora.backward(LoraTarget.Q, tape.attnNormed, dq, n, dAttnNormed, pool);
            tape.lora.backward(LoraTarget.K, tape.attnNormed, dk, n, dAttnNormed, pool);
            tape.lora.backward(LoraTarget.V, tape.attnNormed, dValue, n, dAttnNormed, pool);
        }
        RmsNorm.backward(dAttnNormed, tape.input, tape.attnInvRms, w.attentionNorm(), n, dim, dInput);
    }
}
