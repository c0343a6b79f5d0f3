package dev.buddy.engine.model;


import dev.buddy.engine.kv.KvCache;
import dev.buddy.engine.tensor.ActivationFormat;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.QuantizedInput;

/**
 * Everything one sequence needs while running: its KV cache and every activation buffer, sized once for up to
 * {@code maxBatch} tokens per forward call, so a forward pass allocates nothing. Made by
 * {@link Transformer#newState}; not thread-safe (one sequence, one caller). A {@link SequenceBatch} holds one more,
 * without a cache of its own, for the activations of all its sequences' rows.
 */
public final class InferenceState implements LayerPlanContext {
    final KvCache kv;
    final int maxBatch;
    private SkippedKvPolicy skippedKvPolicy;
    private AttentionOrder attentionOrder = AttentionOrder.LLAMA_CPP;
    ResidualObserver residualObserver; // null: nobody looks at hidden states

    // Activations, row-major [token][feature] for the tokens of one forward call.
    final float[] x;        // residual stream           [maxBatch][dim]
    final float[] xb;       // normed input of a sub-block [maxBatch][dim]
    final float[] q;        // queries                   [maxBatch][headCount * headDim]
    final float[] k;        // new keys                  [maxBatch][kvDim]
    final float[] v;        // new values                [maxBatch][kvDim]
    final float[] attention; // attention output, heads concatenated [maxBatch][headCount * headDim]
    final float[] projected; // output of wo / ffn_down  [maxBatch][dim]
    final float[] gate;     // FFN gate, then silu(gate) * up [maxBatch][ffn]
    final float[] up;       // FFN up                    [maxBatch][ffn]
    final float[][] queryKeyValueOut; // {q, k, v}, {k, v}, {up, gate}: outputs of the grouped projections
    final float[][] keyValueOut;
    final float[][] upGateOut;
    final float[] logits;   // [vocab]
    final float[] cos;      // RoPE angles               [maxBatch][ropeDims/2]
    final float[] sin;
    // Attention's working memory, one slice per pool thread (the parallel task splits rows as well as heads):
    final int attentionContext;
    final float[] scores;   // attention weights, one row per head of a GQA group [threads][groupSize][context]
    final float[] queries;  // queries as the cache's dot product sees them [threads][groupSize][headDim]
    final float[] valueScratch; // the cache's working memory for softmax·V [threads][groupSize][valueScratchSize]
    final boolean[] runBlock;
    final int[] rowsRun;    // rows each block ran attention and FFN on in the last forward call [blockCount]
    final int[] positions;  // position of each row of the call [maxBatch]
    final TokenRows allRows; // every token of the call: x, cos, sin, positions
    // Per-token plans: one mask row per token, and the compact copy of the rows that run (or skip) one block.
    final boolean[] tokenMasks; // [maxBatch][blockCount]
    final TokenRows subsetRows;
    final int[] subsetIndex;    // subsetRows row r is allRows row subsetIndex[r]
    TokenRows attending;        // the rows the parallel attention task reads
    private float[] logitRows;  // [LOGIT_ROWS][vocab], made on the first forwardEachLogits call

    // norm(x) in xb, converted once per activation format and shared by every matrix that reads it (Q, K and V;
    // gate and up), as llama.cpp converts a shared input once. Marked stale whenever xb is rewritten.
    final QuantizedInput[] normedInputs = new QuantizedInput[ActivationFormat.values().length];
    final boolean[] normedInputFresh = new boolean[ActivationFormat.values().length];

    // The forward call in progress, read by the parallel attention task.
    int callLayer;
    int callStart;
    int callTokens;
    final Parallel.WorkerRangeTask attentionTask;

    InferenceState(Transformer transformer, ModelSpec spec, KvCache kv, int maxBatch, SkippedKvPolicy policy) {
        this(transformer, spec, kv, kv.contextLength(), kv.valueScratchSize(), maxBatch, policy);
    }

    /**
     * @param kv                this sequence's cache; null for the shared activations of a {@link SequenceBatch},
     *                          whose rows each use their own sequence's cache
     * @param attentionContext  most positions one row attends to (sizes the score rows)
     * @param valueScratchSize  {@link KvCache#valueScratchSize()} of the caches the rows attend to
     */
    InferenceState(Transformer transformer, ModelSpec spec, KvCache kv, int attentionContext, int valueScratchSize,
            int maxBatch, SkippedKvPolicy policy) {
        if (maxBatch <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + maxBatch);
        }
        this.kv = kv;
        this.maxBatch = maxBatch;
        this.skippedKvPolicy = policy;
        int dim = spec.embeddingLength();
        int qDim = spec.queryDim();
        int kvDim = spec.kvDim();
        int ffn = spec.feedForwardLength();
        x = new float[maxBatch * dim];
        xb = new float[maxBatch * dim];
        for (ActivationFormat f : ActivationFormat.values()) {
            normedInputs[f.ordinal()] = new QuantizedInput(f);
        }
        q = new float[maxBatch * qDim];
        k = new float[maxBatch * kvDim];
        v = new float[maxBatch * kvDim];
        attention = new float[maxBatch * qDim];
        projected = new float[maxBatch * dim];
        gate = new float[maxBatch * ffn];
        up = new float[maxBatch * ffn];
        queryKeyValueOut = new float[][] {q, k, v};
        keyValueOut = new float[][] {k, v};
        upGateOut = new float[][] {up, gate};
        logits = new float[spec.vocabSize()];
        cos = new float[maxBatch * spec.rope().dimensions() / 2];
        sin = new float[maxBatch * spec.rope().dimensions() / 2];
        int groupSlots = transformer.threads() * spec.groupSize();
        this.attentionContext = attentionContext;
        scores = new float[groupSlots * attentionContext];
        queries = new float[groupSlots * spec.headDim()];
        valueScratch = new float[groupSlots * valueScratchSize];
        runBlock = new boolean[spec.blockCount()];
        rowsRun = new int[spec.blockCount()];
        positions = new int[maxBatch];
        allRows = new TokenRows(x, cos, sin, positions);
        attending = allRows;
        tokenMasks = new boolean[maxBatch * spec.blockCount()];
        int pairs = spec.rope().dimensions() / 2;
        subsetRows = new TokenRows(new float[maxBatch * dim], new float[maxBatch * pairs], new float[maxBatch * pairs],
                new int[maxBatch]);
        subsetIndex = new int[maxBatch];
        attentionTask = (worker, from, to) -> transformer.attend(this, worker, from, to);
    }

    public KvCache kvCache() {
        return kv;
    }

    public int contextLength() {
        return kv.contextLength();
    }

    public int maxBatch() {
        return maxBatch;
    }

    public SkippedKvPolicy skippedKvPolicy() {
        return skippedKvPolicy;
    }

    /** Changes what skipped blocks leave in the cache from the next forward call on. */
    public void setSkippedKvPolicy(SkippedKvPolicy policy) {
        this.skippedKvPolicy = java.util.Objects.requireNonNull(policy);
    }

    public AttentionOrder attentionOrder() {
        return attentionOrder;
    }

    /** Changes the summation order of this sequence's attention from the next forward call on. */
    public void setAttentionOrder(AttentionOrder order) {
        this.attentionOrder = java.util.Objects.requireNonNull(order);
    }

    /** Rows (tokens) block {@code block} ran attention and feed-forward on in the last forward call. */
    public int rowsRun(int block) {
        return rowsRun[block];
    }

    /** Shows the residual stream at every block boundary of the following forward calls; null turns it off. */
    public void setResidualObserver(ResidualObserver observer) {
        this.residualObserver = observer;
    }

    /** The logits of the last forward call that asked for them. */
    public float[] logits() {
        return logits;
    }

    /** Starts a new sequence: clears the cache's validity marks (rows are overwritten as positions are reused). */
    public void reset() {
        kv.reset();
    }

    // ---- LayerPlanContext ---------------------------------------------------------------------------------------

    @Override
    public int layerCount() {
        return runBlock.length;
    }

    @Override
    public int startPosition() {
        return callStart;
    }

    @Override
    public int tokenCount() {
        return callTokens;
    }

    @Override
    public int kvDim() {
        return kv.kvDim();
    }

    @Override
    public void layer0Value(int position, float[] dst, int dstOffset) {
        checkComputed(position);
        kv.readValue(0, position, dst, dstOffset);
    }

    @Override
    public void layer0Key(int position, float[] dst, int dstOffset) {
        checkComputed(position);
        kv.readKey(0, position, dst, dstOffset);
    }

    private void checkComputed(int position) {
        if (position < 0 || position >= callStart + callTokens) {
            throw new IndexOutOfBoundsException("position " + position + " has no block-0 key/value yet (computed: 0.."
                    + (callStart + callTokens - 1) + ")");
        }
    }

    /** Scratch for the logits of up to {@code rows} tokens, allocated once per state. */
    float[] logitRows(int rows, int vocab) {
        if (logitRows == null || logitRows.length < rows * vocab) {
            logitRows = new float[rows * vocab];
        }
        return logitRows;
    }

    /** xb was rewritten: its converted copies must be made again before use. */
    void normedInputChanged() {
        java.util.Arrays.fill(normedInputFresh, false);
    }
}
