package dev.buddy.engine.model;

import java.util.Arrays;

import dev.buddy.engine.kv.KvCache;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.tensor.ActivationFormat;
import dev.buddy.engine.tensor.GgmlMath;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.QuantizedInput;
import dev.buddy.engine.tensor.WeightMatrix;

/**
 * The forward pass shared by every supported family (llama, qwen2, qwen3); the {@link ModelSpec} flags switch on the
 * family-specific steps (Q/K/V bias, per-head Q/K norm, RoPE style). One call runs a batch of consecutive tokens of
 * one sequence (a prompt chunk or a single decode token), or the next tokens of several sequences at once
 * ({@link #forward(SequenceBatch)}); both go through the same layer loop, where a per-token plan runs each block on
 * the rows that selected it.
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
    // Per block, the matrices that read one normed input, run as one parallel region (see projectNormed).
    private final Projections[] queryKeyValue;
    private final Projections[] keyValue;
    private final Projections[] upGate;

    /**
     * Matrices that read the same normed input; {@code shared} when they all take one activation format, so that one
     * converted input and one parallel region serve them all (decided at load, not per token).
     */
    private record Projections(WeightMatrix[] matrices, boolean shared) {
        static Projections of(WeightMatrix... matrices) {
            boolean shared = true;
            for (WeightMatrix m : matrices) {
                shared &= m.activationFormat() == matrices[0].activationFormat();
            }
            return new Projections(matrices, shared);
        }
    }

    public Transformer(Model model, Parallel pool) {
        this.spec = model.spec();
        this.weights = model.weights();
        this.pool = pool;
        this.rope = new Rope(spec.rope());
        this.attentionScale = 1.0f / (float) Math.sqrt(spec.headDim());
        int layers = spec.blockCount();
        this.queryKeyValue = new Projections[layers];
        this.keyValue = new Projections[layers];
        this.upGate = new Projections[layers];
        for (int l = 0; l < layers; l++) {
            LayerWeights w = weights.layers()[l];
            queryKeyValue[l] = Projections.of(w.wq(), w.wk(), w.wv());
            keyValue[l] = Projections.of(w.wk(), w.wv());
            upGate[l] = Projections.of(w.ffnUp(), w.ffnGate());
        }
    }

    public ModelSpec spec() {
        return spec;
    }

    /** Threads of the pool the forward pass runs on: states keep attention's working memory per thread. */
    int threads() {
        return pool.threads();
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
        checkCall(s, tokens, tokensOffset, startPos, n);
        for (int done = 0; done < n; ) {
            int chunk = Math.min(s.maxBatch, n - done);
            boolean last = done + chunk == n;
            forwardChunk(s, tokens, tokensOffset + done, startPos + done, chunk, planner, wantLogits && last, null);
            done += chunk;
        }
        return wantLogits ? s.logits : null;
    }

    /**
     * Runs {@code tokens[offset, offset + n)} at positions {@code startPos ..} as
     * {@link #forward(InferenceState, int[], int, int, int, LayerPlanner, boolean)} does, and hands the logits after
     * every one of them to {@code consumer}, in position order: what scoring a whole text needs, in one batched pass
     * instead of one call per token. The output head runs as a GEMM over groups of rows.
     */
    public void forwardEachLogits(InferenceState s, int[] tokens, int tokensOffset, int startPos, int n,
            LayerPlanner planner, LogitsConsumer consumer) {
        java.util.Objects.requireNonNull(consumer, "consumer");
        checkCall(s, tokens, tokensOffset, startPos, n);
        for (int done = 0; done < n; ) {
            int chunk = Math.min(s.maxBatch, n - done);
            forwardChunk(s, tokens, tokensOffset + done, startPos + done, chunk, planner, false, consumer);
            done += chunk;
        }
    }

    private void checkCall(InferenceState s, int[] tokens, int tokensOffset, int startPos, int n) {
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
    }

    // ---- the forward pass -------------------------------------------------------------------------------------

    private void forwardChunk(InferenceState s, int[] tokens, int offset, int start, int n, LayerPlanner planner,
            boolean wantLogits, LogitsConsumer eachLogits) {
        int dim = spec.embeddingLength();
        s.callStart = start;
        s.callTokens = n;
        boolean batchOrder = n > 1 && s.attentionOrder() == AttentionOrder.LLAMA_CPP;
        for (int t = 0; t < n; t++) {
            loadRow(s, t, tokens[offset + t], start + t, s.kv, batchOrder);
        }
        s.allRows.count = n;
        int logitsRow = runLayers(s, planner, planner != null && planner.plansPerToken(), null, eachLogits == null,
                wantLogits);
        if (wantLogits) {
            rmsNorm(s.xb, 0, s.x, logitsRow * dim, weights.outputNorm(), dim);
            s.normedInputChanged();
            weights.output().matvec(s.xb, 0, s.logits, 0, pool);
        }
        if (eachLogits != null) {
            logitsOfRows(s, null, s.positions, n, eachLogits);
        }
    }

    /**
     * Advances every sequence of {@code batch} by its tokens in one forward call: each block's matrix products run
     * once over the rows of the sequences whose plans selected it, attention runs per row over its own sequence's
     * cache, and the logits after each sequence's last token land in {@link SequenceBatch#logits(int)}. Each
     * sequence computes what a forward call of its own tokens alone would (see {@link SequenceBatch}).
     *
     * @throws IllegalArgumentException when the batch is empty
     */
    public void forward(SequenceBatch batch) {
        if (batch.size() == 0) {
            throw new IllegalArgumentException("a batched forward call needs at least one sequence");
        }
        InferenceState s = batch.work;
        int rows = 0;
        for (int i = 0; i < batch.size(); i++) {
            InferenceState member = batch.members[i];
            int start = batch.starts[i];
            int n = batch.counts[i];
            member.callStart = start;
            member.callTokens = n;
            boolean batchOrder = n > 1 && member.attentionOrder() == AttentionOrder.LLAMA_CPP;
            for (int t = 0; t < n; t++) {
                loadRow(s, rows++, batch.tokens[i][batch.offsets[i] + t], start + t, member.kv, batchOrder);
            }
            batch.lastRows[i] = rows - 1;
        }
        s.callStart = 0;
        s.callTokens = rows;
        s.allRows.count = rows;
        runLayers(s, null, true, batch, false, true);
        logitsOfRows(s, batch.lastRows, batch.sequenceIndex, batch.size(), batch.logitsSink);
    }

    /** Row {@code row} of the call: the token's embedding, its RoPE angles, its position, cache and attention order. */
    private void loadRow(InferenceState s, int row, int token, int position, dev.buddy.engine.kv.KvCache cache,
            boolean batchOrder) {
        TokenRows all = s.allRows;
        weights.tokenEmbedding().row(token, all.x, row * spec.embeddingLength());
        rope.angles(position, all.cos, all.sin, row * rope.dimensions() / 2);
        all.positions[row] = position;
        all.caches[row] = cache;
        all.batchOrder[row] = batchOrder;
    }

    /**
     * Every block over the call's rows. The plan is made after block 0 has run: by {@code planner} for a one-sequence
     * call, by each sequence's own planner for a {@code batch}. Under per-token masks each block runs on the rows that
     * selected it.
     *
     * @param lastRowOnly only the last row's output is read (if at all): a last block that runs on every row may run
     *                    its feed-forward half on that row alone (see {@link #lastBlockForOutputs})
     * @return the row of {@code x} that holds the last row's final residual
     */
    private int runLayers(InferenceState s, LayerPlanner planner, boolean perToken, SequenceBatch batch,
            boolean lastRowOnly, boolean wantLogits) {
        int dim = spec.embeddingLength();
        int layers = spec.blockCount();
        int n = s.allRows.count;
        boolean planned = planner != null || batch != null;
        int outputRow = n - 1;
        Arrays.fill(s.runBlock, true);
        Arrays.fill(s.rowsRun, 0);
        if (perToken) {
            Arrays.fill(s.tokenMasks, 0, n * layers, true);
        }
        for (int layer = 0; layer < layers; layer++) {
            if (layer == 1 && planned) {
                plan(s, planner, perToken, batch); // block 0 has run for these positions: its keys and values exist
            }
            if (s.residualObserver != null) {
                s.residualObserver.observe(layer, s.x, s.callStart, n, dim);
            }
            LayerWeights w = weights.layers()[layer];
            boolean everyRow = layer == 0 || (!perToken && s.runBlock[layer]);
            if (everyRow && lastRowOnly && layer == layers - 1 && n > 1 && s.residualObserver == null) {
                lastBlockForOutputs(s, layer, w, s.allRows, wantLogits);
                outputRow = 0;
            } else if (everyRow) {
                runBlock(s, layer, w, s.allRows);
            } else if (perToken) {
                runBlockPerToken(s, layer, w);
            } else {
                skippedBlock(s, layer, w, s.allRows);
            }
        }
        if (s.residualObserver != null) {
            s.residualObserver.observe(layers, s.x, s.callStart, n, dim);
        }
        if (planned && layers == 1) {
            plan(s, planner, perToken, batch); // nothing left to skip, but the hook is still called once per call
        }
        return outputRow;
    }

    private static void plan(InferenceState s, LayerPlanner planner, boolean perToken, SequenceBatch batch) {
        if (batch != null) {
            batch.plan(s.tokenMasks);
        } else if (perToken) {
            planner.planTokens(s, s.tokenMasks);
        } else {
            planner.plan(s, s.runBlock);
        }
    }

    private void runBlock(InferenceState s, int layer, LayerWeights w, TokenRows rows) {
        s.rowsRun[layer] += rows.count;
        attentionBlock(s, layer, w, rows);
        feedForwardBlock(s, layer, w, rows);
    }

    /**
     * One block under per-token masks: the rows that skip it first leave their KV slots as the policy says (a running
     * row later in the call may attend to their positions), then the rows that selected it run as one compact batch
     * whose residual rows are scattered back.
     */
    private void runBlockPerToken(InferenceState s, int layer, LayerWeights w) {
        TokenRows all = s.allRows;
        int layers = spec.blockCount();
        int running = 0;
        for (int t = 0; t < all.count; t++) {
            running += s.tokenMasks[t * layers + layer] ? 1 : 0;
        }
        if (running == all.count) {
            runBlock(s, layer, w, all);
        } else if (running == 0) {
            skippedBlock(s, layer, w, all);
        } else {
            skippedBlock(s, layer, w, gather(s, layer, false));
            TokenRows subset = gather(s, layer, true);
            runBlock(s, layer, w, subset);
            int dim = spec.embeddingLength();
            for (int r = 0; r < subset.count; r++) {
                System.arraycopy(subset.x, r * dim, all.x, s.subsetIndex[r] * dim, dim);
            }
        }
    }

    /** Copies the call's rows whose mask entry for {@code layer} equals {@code running} into the subset rows. */
    private TokenRows gather(InferenceState s, int layer, boolean running) {
        int dim = spec.embeddingLength();
        int pairs = rope.dimensions() / 2;
        int layers = spec.blockCount();
        TokenRows all = s.allRows;
        TokenRows subset = s.subsetRows;
        int m = 0;
        for (int t = 0; t < all.count; t++) {
            if (s.tokenMasks[t * layers + layer] == running) {
                subset.copyRow(all, t, m, dim, pairs);
                s.subsetIndex[m++] = t;
            }
        }
        subset.count = m;
        return subset;
    }

    /** Rows of logits the output head computes per GEMM when every token's logits are wanted. */
    private static final int LOGIT_ROWS = 16;

    /**
     * The logits of {@code n} rows of the call, handed to {@code consumer} with their labels: row r is
     * {@code rows[r]} ({@code r} when {@code rows} is null), announced as {@code labels[r]}. The output head runs as
     * a GEMM over groups of rows.
     */
    private void logitsOfRows(InferenceState s, int[] rows, int[] labels, int n, LogitsConsumer consumer) {
        int dim = spec.embeddingLength();
        int vocab = spec.vocabSize();
        float[] out = s.logitRows(LOGIT_ROWS, vocab);
        for (int from = 0; from < n; from += LOGIT_ROWS) {
            int group = Math.min(LOGIT_ROWS, n - from);
            for (int r = 0; r < group; r++) {
                int row = rows == null ? from + r : rows[from + r];
                rmsNorm(s.xb, r * dim, s.x, row * dim, weights.outputNorm(), dim);
            }
            s.normedInputChanged();
            project(weights.output(), s.xb, group, out);
            for (int r = 0; r < group; r++) {
                consumer.accept(labels[from + r], out, r * vocab);
            }
        }
    }

    /** x += wo · attention(rope(norm(x)·wq), rope(norm(x)·wk), norm(x)·wv), keys and values cached. */
    private void attentionBlock(InferenceState s, int layer, LayerWeights w, TokenRows rows) {
        int dim = spec.embeddingLength();
        int n = rows.count;
        for (int t = 0; t < n; t++) {
            rmsNorm(s.xb, t * dim, rows.x, t * dim, w.attentionNorm(), dim);
        }
        s.normedInputChanged();
        projectNormed(s, queryKeyValue[layer], s.queryKeyValueOut, n);
        finishKeysAndValues(s, layer, w, rows);
        addBias(s.q, w.bq(), n);
        if (spec.qkNorm()) {
            normalizeHeads(s.q, w.qNorm(), n * spec.headCount());
        }
        rotateHeads(rows, s.q, spec.headCount());

        s.callLayer = layer;
        s.attending = rows;
        pool.forRange(spec.headCountKv() * n * spec.groupSize(), 1, s.attentionTask);

        project(w.wo(), s.attention, n, s.projected);
        add(rows.x, s.projected, n * dim);
    }

    /**
     * The projected keys and values of the rows' positions finished (bias, K norm, RoPE on keys) and stored into the
     * cache as valid rows.
     */
    private void finishKeysAndValues(InferenceState s, int layer, LayerWeights w, TokenRows rows) {
        int kvDim = spec.kvDim();
        int n = rows.count;
        addBias(s.k, w.bk(), n);
        addBias(s.v, w.bv(), n);
        if (spec.qkNorm()) {
            normalizeHeads(s.k, w.kNorm(), n * spec.headCountKv());
        }
        rotateHeads(rows, s.k, spec.headCountKv());
        for (int t = 0; t < n; t++) {
            int position = rows.positions[t];
            KvCache kv = rows.caches[t];
            kv.storeKey(layer, position, s.k, t * kvDim);
            kv.storeValue(layer, position, s.v, t * kvDim);
            kv.setValid(layer, position, true);
        }
    }

    /** x += ffn_down · (silu(ffn_gate · norm(x)) * (ffn_up · norm(x))). */
    private void feedForwardBlock(InferenceState s, int layer, LayerWeights w, TokenRows rows) {
        int dim = spec.embeddingLength();
        int n = rows.count;
        for (int t = 0; t < n; t++) {
            rmsNorm(s.xb, t * dim, rows.x, t * dim, w.ffnNorm(), dim);
        }
        s.normedInputChanged();
        projectNormed(s, upGate[layer], s.upGateOut, n);
        GgmlMath.siluTimes(s.gate, s.up, n, spec.feedForwardLength());
        project(w.ffnDown(), s.gate, n, s.projected);
        add(rows.x, s.projected, n * dim);
    }

    /**
     * The last block of a call whose only output is the logits after its last row (or nothing, for a prompt chunk
     * before the last): attention runs on every row, because its keys and values are cached for later tokens, but
     * the feed-forward half runs on the one row whose logits are read, moved to row 0 first. This is llama.cpp's
     * "skip computing output for unused tokens" ({@code ggml_get_rows} by {@code inp_out_ids} after the last
     * block's attention), so the row also goes through the same one-token kernels there as here, which for the float
     * weight formats sum in a different order than the batch kernels.
     */
    private void lastBlockForOutputs(InferenceState s, int layer, LayerWeights w, TokenRows all, boolean wantLogits) {
        s.rowsRun[layer] += all.count;
        attentionBlock(s, layer, w, all);
        if (!wantLogits) {
            return;
        }
        int dim = spec.embeddingLength();
        int n = all.count;
        System.arraycopy(s.x, (n - 1) * dim, s.x, 0, dim);
        all.count = 1;
        feedForwardBlock(s, layer, w, all);
        all.count = n;
    }

    /** A block the planner skipped: the residual passes unchanged; its KV slots follow the skipped-KV policy. */
    private void skippedBlock(InferenceState s, int layer, LayerWeights w, TokenRows rows) {
        int n = rows.count;
        switch (s.skippedKvPolicy()) {
            case ZEROS -> {
                for (int t = 0; t < n; t++) {
                    rows.caches[t].zero(layer, rows.positions[t]);
                    rows.caches[t].setValid(layer, rows.positions[t], true);
                }
            }
            case MASK -> {
                for (int t = 0; t < n; t++) {
                    rows.caches[t].setValid(layer, rows.positions[t], false);
                }
            }
            case COMPUTE_KV -> {
                int dim = spec.embeddingLength();
                for (int t = 0; t < n; t++) {
                    rmsNorm(s.xb, t * dim, rows.x, t * dim, w.attentionNorm(), dim);
                }
                s.normedInputChanged();
                projectNormed(s, keyValue[layer], s.keyValueOut, n);
                finishKeysAndValues(s, layer, w, rows);
            }
        }
    }

    /**
     * Causal attention for items [from, to) of the call's (KV head, row, query head of its group) triples, numbered
     * KV head first, then row, then query head: the row at position p sees positions 0..p of its own sequence's
     * cache, except those its layer marks invalid, summed in the row's order (see {@link AttentionOrder}). Query head
     * h reads KV head h / groupSize (GQA); the heads of one row that share a KV head go to the cache together, so it
     * can read each key and value row once for all of them. Splitting by rows as well as heads keeps whole groups
     * together when the pool has more threads than KV heads (SmolLM2: 3 KV heads of 3 query heads each, where a
     * split by query heads alone cut most groups apart); consecutive items of one KV head re-read its cache rows
     * while they are still in cache. {@code worker} picks this thread's slice of the working memory.
     */
    void attend(InferenceState s, int worker, int from, int to) {
        TokenRows rows = s.attending;
        int layer = s.callLayer;
        int hd = spec.headDim();
        int qDim = spec.queryDim();
        int group = spec.groupSize();
        int n = rows.count;
        int context = s.attentionContext;
        int scoresOffset = worker * group * context;
        int queryOffset = worker * group * hd;
        for (int item = from; item < to; ) {
            int headGroup = item / group;      // KV head * n + row
            int firstInGroup = item - headGroup * group;
            int endInGroup = Math.min(group, to - headGroup * group);
            int kvHead = headGroup / n;
            int t = headGroup - kvHead * n;
            int first = kvHead * group + firstInGroup;
            int count = endInGroup - firstInGroup;
            KvCache kv = rows.caches[t];
            boolean batch = rows.batchOrder[t];
            int positions = rows.positions[t] + 1;
            for (int j = 0; j < count; j++) {
                kv.prepareQuery(s.q, t * qDim + (first + j) * hd, s.queries, queryOffset + j * hd);
            }
            kv.keyScoresGroup(layer, kvHead, s.queries, queryOffset, count, positions, attentionScale, s.scores,
                    scoresOffset, context, batch);
            for (int j = 0; j < count; j++) {
                int scores = scoresOffset + j * context;
                if (kv.hasInvalid(layer)) {
                    for (int p = 0; p < positions; p++) {
                        if (!kv.isValid(layer, p)) {
                            s.scores[scores + p] = Float.NEGATIVE_INFINITY;
                        }
                    }
                }
                softmax(s.scores, scores, positions);
            }
            kv.weightedValuesGroup(layer, kvHead, s.scores, scoresOffset, context, count, positions, s.attention,
                    t * qDim + first * hd, s.valueScratch, worker * group * kv.valueScratchSize(), batch);
            item = headGroup * group + endInGroup;
        }
    }

    // ---- building blocks --------------------------------------------------------------------------------------

    /**
     * outs[i] = the group's matrix i · xb for the n normed rows in xb. The rows are converted to the activation
     * format once per sub-block and reused by every matrix of that format reading them; a group sharing one format
     * (as Q, K and V, or gate and up, nearly always do) runs as one parallel region. The kernels run exactly as
     * {@link #project} would.
     */
    private void projectNormed(InferenceState s, Projections group, float[][] outs, int n) {
        WeightMatrix[] ms = group.matrices();
        if (group.shared()) {
            WeightMatrix.matmulAll(normedInput(s, ms[0].activationFormat(), n), ms, outs, pool);
        } else {
            for (int i = 0; i < ms.length; i++) {
                ms[i].matmul(normedInput(s, ms[i].activationFormat(), n), outs[i], 0, pool);
            }
        }
    }

    /** xb's n rows in {@code format}, converted on first use after xb changed. */
    private QuantizedInput normedInput(InferenceState s, ActivationFormat format, int n) {
        QuantizedInput in = s.normedInputs[format.ordinal()];
        if (!s.normedInputFresh[format.ordinal()]) {
            in.quantize(s.xb, 0, n, spec.embeddingLength(), pool);
            s.normedInputFresh[format.ordinal()] = true;
        }
        return in;
    }

    /** out = W · in for n rows of in: a GEMV for one token, a GEMM for a batch. */
    private void project(WeightMatrix w, float[] in, int n, float[] out) {
        if (n == 1) {
            w.matvec(in, 0, out, 0, pool);
        } else {
            w.matmul(in, n, out, pool);
        }
    }

    /** Rotates every head of every row in {@code x} (rows of {@code heads × headDim}) by its row's angles. */
    private void rotateHeads(TokenRows rows, float[] x, int heads) {
        int hd = spec.headDim();
        int pairs = rope.dimensions() / 2;
        for (int t = 0; t < rows.count; t++) {
            for (int h = 0; h < heads; h++) {
                rope.rotate(x, (t * heads + h) * hd, rows.cos, rows.sin, t * pairs);
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
