package dev.buddy.engine.model;

import java.util.Arrays;

import dev.buddy.engine.kv.KvCache;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.tensor.GgmlMath;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.QuantizedInput;
import dev.buddy.engine.tensor.WeightMatrix;

/**
 * The forward pass shared by every supported family (llama, qwen2, qwen3); the {@link ModelSpec} flags switch on the
 * family-specific steps (Q/K/V bias, per-head Q/K norm, RoPE style). One call runs a batch of consecutive tokens:
 * a prompt chunk (prefill) or a single token (decode).
 *
 * <p>The arithmetic follows llama.cpp's CPU graph step by step (RMSNorm summed in double then scaled, then multiplied
 * by the weight; softmax as {@code exp(s - max)} summed in double; RoPE angles by repeated float multiplication), so
 * that greedy decoding matches llama.cpp token for token.
 */
public final class Transformer {
    private final ModelSpec spec;
    private final ModelWeights weights;
    private final Parallel pool;
    private final Rope rope;
    private final float attentionScale;

    public Transformer(Model model, Parallel pool) {
        this.spec = model.spec();
        this.weights = model.weights();
        this.pool = pool;
        this.rope = new Rope(spec.rope());
        this.attentionScale = 1.0f / (float) Math.sqrt(spec.headDim());
    }

    public ModelSpec spec() {
        return spec;
    }

    /**
     * A fresh sequence state.
     *
     * @param contextLength positions the KV cache holds (the user's choice; may differ from the training context)
     * @param kvType        KV storage; {@link KvCacheType#F16} is llama.cpp's default
     * @param maxBatch      most tokens per forward call; longer inputs are processed in chunks of this size
     * @param policy        what blocks skipped by a {@link LayerPlanner} leave in the cache
     */
    public InferenceState newState(int contextLength, KvCacheType kvType, int maxBatch, SkippedKvPolicy policy) {
        KvCache kv = KvCache.allocate(kvType, spec.blockCount(), contextLength, spec.headCountKv(), spec.headDim());
        return new InferenceState(this, spec, kv, maxBatch, policy);
    }

    /**
     * Runs {@code tokens[0, n)} at positions {@code startPos ..}, writing their keys and values into the cache.
     * Inputs longer than the state's batch size run as several chunks; the planner plans each chunk.
     *
     * @param planner    chooses blocks to skip; null runs every block without consulting any planner
     * @param wantLogits compute the logits of the last token (skipped for prompt chunks whose logits nobody reads)
     * @return the state's logits array when {@code wantLogits}, else null
     * @throws ContextOverflowException when {@code startPos + n} exceeds the state's context
     */
    public float[] forward(InferenceState s, int[] tokens, int startPos, int n, LayerPlanner planner,
            boolean wantLogits) {
        return forward(s, tokens, 0, startPos, n, planner, wantLogits);
    }

    /** As {@link #forward(InferenceState, int[], int, int, LayerPlanner, boolean)}, reading tokens from an offset. */
    public float[] forward(InferenceState s, int[] tokens, int tokensOffset, int startPos, int n, LayerPlanner planner,
            boolean wantLogits) {
        if (n <= 0) {
            throw new IllegalArgumentException("a forward call needs at least one token, got " + n);
        }
        if (startPos < 0) {
            throw new IllegalArgumentException("start position must be >= 0, got " + startPos);
        }
        if ((long) startPos + n > s.kv.contextLength()) {
            throw new ContextOverflowException(startPos + n, s.kv.contextLength());
        }
        for (int i = 0; i < n; i++) {
            int t = tokens[tokensOffset + i];
            if (t < 0 || t >= spec.vocabSize()) {
                throw new IllegalArgumentException("token id " + t + " is outside the vocabulary of "
                        + spec.vocabSize());
            }
        }
        for (int done = 0; done < n; ) {
            int chunk = Math.min(s.maxBatch, n - done);
            boolean last = done + chunk == n;
            forwardChunk(s, tokens, tokensOffset + done, startPos + done, chunk, planner, wantLogits && last);
            done += chunk;
        }
        return wantLogits ? s.logits : null;
    }

    // ---- the forward pass -------------------------------------------------------------------------------------

    private void forwardChunk(InferenceState s, int[] tokens, int offset, int start, int n, LayerPlanner planner,
            boolean wantLogits) {
        int dim = spec.embeddingLength();
        s.callStart = start;
        s.callTokens = n;
        for (int t = 0; t < n; t++) {
            weights.tokenEmbedding().row(tokens[offset + t], s.x, t * dim);
            rope.angles(start + t, s.cos, s.sin, t * rope.dimensions() / 2);
        }
        Arrays.fill(s.runBlock, true);
        for (int layer = 0; layer < spec.blockCount(); layer++) {
            if (layer == 1 && planner != null) {
                planner.plan(s, s.runBlock); // block 0 has run for these positions: its keys and values exist
            }
            if (s.residualObserver != null) {
                s.residualObserver.observe(layer, s.x, start, n, dim);
            }
            LayerWeights w = weights.layers()[layer];
            if (layer == 0 || s.runBlock[layer]) {
                attentionBlock(s, layer, w, start, n);
                feedForwardBlock(s, w, n);
            } else {
                skippedBlock(s, layer, w, start, n);
            }
        }
        if (s.residualObserver != null) {
            s.residualObserver.observe(spec.blockCount(), s.x, start, n, dim);
        }
        if (planner != null && spec.blockCount() == 1) {
            planner.plan(s, s.runBlock); // nothing left to skip, but the hook is still called once per forward call
        }
        if (wantLogits) {
            int last = (n - 1) * dim;
            rmsNorm(s.xb, 0, s.x, last, weights.outputNorm(), dim);
            s.normedInputChanged();
            weights.output().matvec(s.xb, 0, s.logits, 0, pool);
        }
    }

    /** x += wo · attention(rope(norm(x)·wq), rope(norm(x)·wk), norm(x)·wv), keys and values cached. */
    private void attentionBlock(InferenceState s, int layer, LayerWeights w, int start, int n) {
        int dim = spec.embeddingLength();
        for (int t = 0; t < n; t++) {
            rmsNorm(s.xb, t * dim, s.x, t * dim, w.attentionNorm(), dim);
        }
        s.normedInputChanged();
        projectNormed(s, w.wq(), n, s.q);
        projectKeysAndValues(s, layer, w, start, n);
        addBias(s.q, w.bq(), n);
        if (spec.qkNorm()) {
            normalizeHeads(s.q, w.qNorm(), n * spec.headCount());
        }
        rotateHeads(s, s.q, spec.headCount(), n);

        s.callLayer = layer;
        pool.forRange(spec.headCount(), s.attentionTask);

        project(w.wo(), s.attention, n, s.projected);
        add(s.x, s.projected, n * dim);
    }

    /** Keys and values of the new positions (bias, K norm, RoPE on keys), stored into the cache as valid rows. */
    private void projectKeysAndValues(InferenceState s, int layer, LayerWeights w, int start, int n) {
        int kvDim = spec.kvDim();
        projectNormed(s, w.wk(), n, s.k);
        projectNormed(s, w.wv(), n, s.v);
        addBias(s.k, w.bk(), n);
        addBias(s.v, w.bv(), n);
        if (spec.qkNorm()) {
            normalizeHeads(s.k, w.kNorm(), n * spec.headCountKv());
        }
        rotateHeads(s, s.k, spec.headCountKv(), n);
        for (int t = 0; t < n; t++) {
            s.kv.storeKey(layer, start + t, s.k, t * kvDim);
            s.kv.storeValue(layer, start + t, s.v, t * kvDim);
            s.kv.setValid(layer, start + t, true);
        }
    }

    /** x += ffn_down · (silu(ffn_gate · norm(x)) * (ffn_up · norm(x))). */
    private void feedForwardBlock(InferenceState s, LayerWeights w, int n) {
        int dim = spec.embeddingLength();
        for (int t = 0; t < n; t++) {
            rmsNorm(s.xb, t * dim, s.x, t * dim, w.ffnNorm(), dim);
        }
        s.normedInputChanged();
        projectNormed(s, w.ffnUp(), n, s.up);
        projectNormed(s, w.ffnGate(), n, s.gate);
        GgmlMath.siluTimes(s.gate, s.up, n, spec.feedForwardLength());
        project(w.ffnDown(), s.gate, n, s.projected);
        add(s.x, s.projected, n * dim);
    }

    /** A block the planner skipped: the residual passes unchanged; its KV slots follow the skipped-KV policy. */
    private void skippedBlock(InferenceState s, int layer, LayerWeights w, int start, int n) {
        switch (s.skippedKvPolicy()) {
            case ZEROS -> {
                for (int t = 0; t < n; t++) {
                    s.kv.zero(layer, start + t);
                    s.kv.setValid(layer, start + t, true);
                }
            }
            case MASK -> {
                for (int t = 0; t < n; t++) {
                    s.kv.setValid(layer, start + t, false);
                }
            }
            case COMPUTE_KV -> {
                int dim = spec.embeddingLength();
                for (int t = 0; t < n; t++) {
                    rmsNorm(s.xb, t * dim, s.x, t * dim, w.attentionNorm(), dim);
                }
                s.normedInputChanged();
                projectKeysAndValues(s, layer, w, start, n);
            }
        }
    }

    /**
     * Causal attention for query heads [from, to) of every token in the call: token t sees positions 0..start+t,
     * except those its layer marks invalid. Head h reads KV head h / groupSize (GQA).
     */
    void attendHeads(InferenceState s, int from, int to) {
        KvCache kv = s.kv;
        int layer = s.callLayer;
        int hd = spec.headDim();
        int qDim = spec.queryDim();
        int group = spec.groupSize();
        int context = kv.contextLength();
        boolean masked = kv.hasInvalid(layer);
        boolean batch = s.callTokens > 1; // llama.cpp sums attention differently for a batch (tinyBLAS)
        for (int h = from; h < to; h++) {
            int scoresOffset = h * context;
            int queryOffset = h * hd;
            for (int t = 0; t < s.callTokens; t++) {
                int positions = s.callStart + t + 1;
                kv.prepareQuery(s.q, t * qDim + h * hd, s.queries, queryOffset);
                kv.keyScores(layer, h / group, s.queries, queryOffset, positions, attentionScale, s.scores,
                        scoresOffset, batch);
                if (masked) {
                    for (int p = 0; p < positions; p++) {
                        if (!kv.isValid(layer, p)) {
                            s.scores[scoresOffset + p] = Float.NEGATIVE_INFINITY;
                        }
                    }
                }
                softmax(s.scores, scoresOffset, positions);
                kv.weightedValues(layer, h / group, s.scores, scoresOffset, positions, s.attention,
                        t * qDim + h * hd, s.valueScratch, h * kv.valueScratchSize(), batch);
            }
        }
    }

    // ---- building blocks --------------------------------------------------------------------------------------

    /**
     * out = W · xb for the n normed rows in xb. The rows are converted to W's activation format once per sub-block
     * and reused by every matrix of that format reading them; the kernels then run exactly as {@link #project} would.
     */
    private void projectNormed(InferenceState s, WeightMatrix w, int n, float[] out) {
        int format = w.activationFormat().ordinal();
        QuantizedInput in = s.normedInputs[format];
        if (!s.normedInputFresh[format]) {
            in.quantize(s.xb, 0, n, spec.embeddingLength(), pool);
            s.normedInputFresh[format] = true;
        }
        w.matmul(in, out, 0, pool);
    }

    /** out = W · in for n rows of in: a GEMV for one token, a GEMM for a batch. */
    private void project(WeightMatrix w, float[] in, int n, float[] out) {
        if (n == 1) {
            w.matvec(in, 0, out, 0, pool);
        } else {
            w.matmul(in, n, out, pool);
        }
    }

    /** Rotates every head of every token in {@code x} (rows of {@code heads × headDim}) by its position's angles. */
    private void rotateHeads(InferenceState s, float[] x, int heads, int n) {
        int hd = spec.headDim();
        int pairs = rope.dimensions() / 2;
        for (int t = 0; t < n; t++) {
            for (int h = 0; h < heads; h++) {
                rope.rotate(x, (t * heads + h) * hd, s.cos, s.sin, t * pairs);
            }
        }
    }

    /** Qwen3's per-head RMSNorm of queries or keys: each of {@code rows} heads normalised on its own. */
    private void normalizeHeads(float[] x, float[] weight, int rows) {
        int hd = spec.headDim();
        for (int r = 0; r < rows; r++) {
            rmsNorm(x, r * hd, x, r * hd, weight, hd);
        }
    }

    /**
     * out = x / sqrt(mean(x²) + eps) * weight, as ggml: squares summed in double, the scale computed in float and
     * applied before the weight. {@code out} may alias {@code x}.
     */
    private void rmsNorm(float[] out, int outOffset, float[] x, int xOffset, float[] weight, int size) {
        double sum = 0;
        for (int i = 0; i < size; i++) {
            float xi = x[xOffset + i];
            sum += xi * xi;
        }
        float mean = (float) (sum / size);
        float scale = 1.0f / (float) Math.sqrt(mean + spec.rmsEps());
        for (int i = 0; i < size; i++) {
            out[outOffset + i] = (x[xOffset + i] * scale) * weight[i];
        }
    }

    /** In-place softmax of {@code x[offset, offset + n)}, as ggml's (see {@link GgmlMath#softmax}). */
    private static void softmax(float[] x, int offset, int n) {
        GgmlMath.softmax(x, offset, n);
    }

    private static void addBias(float[] x, float[] bias, int n) {
        if (bias == null) {
            return;
        }
        int width = bias.length;
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < width; i++) {
                x[t * width + i] += bias[i];
            }
        }
    }

    private static void add(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            x[i] += y[i];
        }
    }
}
