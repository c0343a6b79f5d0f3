package dev.buddy.engine.model;

import java.util.Arrays;
import java.util.Objects;

import dev.buddy.engine.kv.KvCache;

/**
 * Several independent sequences advanced by one forward call ({@link Transformer#forward(SequenceBatch)}): each
 * sequence keeps its own {@link InferenceState} (KV cache, positions, attention order) and its own
 * {@link LayerPlanner}, and the batch holds the shared activations of all their rows. Every block's matrix products
 * run once over the rows of the sequences whose plans selected it (gathered, multiplied, scattered back), so a block
 * that no sequence selected does not run at all; attention runs per row over the row's own cache.
 *
 * <p>Each sequence computes what a forward call of its tokens alone would compute with the same plan: its attention
 * sums in the order its own call size gives it (one token: the one-token order, as a decode step alone), and a row's
 * matrix products do not depend on which rows share them, bit for bit for every quantised format (their prompt tiles
 * sum each row and token as the single-token dot does); F32, F16 and BF16 weights sum a product of two or more rows
 * in tinyBLAS's order, as llama.cpp does, so there a block that several rows run agrees with a lone row only to
 * rounding. The logits after each sequence's last token are computed as one GEMM over those rows.
 *
 * <p>Use: {@link #clear()}, {@link #add} each sequence's tokens, {@link Transformer#forward(SequenceBatch)}, then read
 * {@link #logits(int)}. Sizes are fixed at construction; a step allocates nothing. Not thread-safe.
 */
public final class SequenceBatch {
    final InferenceState work;
    private final int layers;
    private final int vocab;
    private final int contextLength;
    private final int maxRows;

    // Entry i of the current call.
    final InferenceState[] members;
    final int[][] tokens;
    final int[] offsets;
    final int[] starts;
    final int[] counts;
    final LayerPlanner[] planners;
    final int[] firstRows;
    final int[] lastRows;
    final int[] sequenceIndex; // 0, 1, 2, ...: the label each sequence's logits row is delivered with
    private int size;
    private int rows;

    private final float[][] logits;
    final LogitsConsumer logitsSink;

    /**
     * @param transformer   the model every sequence runs
     * @param maxSequences  most sequences per call
     * @param maxRows       most tokens per call, all sequences together
     * @param contextLength most positions any member's cache holds
     * @param policy        what skipped blocks leave in the caches; every member must use the same
     */
    public SequenceBatch(Transformer transformer, int maxSequences, int maxRows, int contextLength,
            SkippedKvPolicy policy) {
        if (maxSequences <= 0 || maxRows < maxSequences) {
            throw new IllegalArgumentException("a batch needs 1 <= sequences <= rows, got " + maxSequences
                    + " sequences and " + maxRows + " rows");
        }
        ModelSpec spec = transformer.spec();
        this.layers = spec.blockCount();
        this.vocab = spec.vocabSize();
        this.contextLength = contextLength;
        this.maxRows = maxRows;
        this.work = new InferenceState(transformer, spec, null, contextLength, KvCache.valueScratchSize(
                spec.headDim()), maxRows, Objects.requireNonNull(policy, "policy"));
        members = new InferenceState[maxSequences];
        tokens = new int[maxSequences][];
        offsets = new int[maxSequences];
        starts = new int[maxSequences];
        counts = new int[maxSequences];
        planners = new LayerPlanner[maxSequences];
        firstRows = new int[maxSequences];
        lastRows = new int[maxSequences];
        sequenceIndex = new int[maxSequences];
        for (int i = 0; i < maxSequences; i++) {
            sequenceIndex[i] = i;
        }
        logits = new float[maxSequences][vocab];
        logitsSink = (sequence, row, offset) -> System.arraycopy(row, offset, logits[sequence], 0, vocab);
    }

    /** Empties the batch for the next call. */
    public void clear() {
        Arrays.fill(members, 0, size, null);
        Arrays.fill(tokens, 0, size, null);
        Arrays.fill(planners, 0, size, null);
        size = 0;
        rows = 0;
    }

    /**
     * Adds a sequence's next tokens {@code tokens[offset, offset + n)} at positions {@code startPos ..}.
     *
     * @param planner the sequence's own planner (per-call or per-token), or null to run every block for it
     * @return the sequence's index in this call, for {@link #logits(int)}
     * @throws ContextOverflowException when the positions do not fit the sequence's cache
     */
    public int add(InferenceState sequence, int[] tokens, int offset, int startPos, int n, LayerPlanner planner) {
        Objects.requireNonNull(sequence, "sequence");
        if (size == members.length) {
            throw new IllegalStateException("the batch holds at most " + members.length + " sequences");
        }
        if (n <= 0 || n > sequence.maxBatch || rows + n > maxRows) {
            throw new IllegalArgumentException(n + " tokens do not fit: the sequence takes 1.." + sequence.maxBatch
                    + " per call and the batch has " + (maxRows - rows) + " rows left");
        }
        if (startPos < 0) {
            throw new IllegalArgumentException("start position must be >= 0, got " + startPos);
        }
        if ((long) startPos + n > sequence.kv.contextLength()) {
            throw new ContextOverflowException(startPos + n, sequence.kv.contextLength());
        }
        if (sequence.kv.contextLength() > contextLength) {
            throw new IllegalArgumentException("the sequence's cache holds " + sequence.kv.contextLength()
                    + " positions, the batch was sized for " + contextLength);
        }
        if (sequence.skippedKvPolicy() != work.skippedKvPolicy()) {
            throw new IllegalArgumentException("the sequence skips blocks with " + sequence.skippedKvPolicy()
                    + ", the batch with " + work.skippedKvPolicy());
        }
        for (int i = 0; i < size; i++) {
            if (members[i] == sequence) {
                throw new IllegalArgumentException("a sequence can appear once per call");
            }
        }
        for (int t = 0; t < n; t++) {
            int token = tokens[offset + t];
            if (token < 0 || token >= vocab) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary of " + vocab);
            }
        }
        int i = size++;
        members[i] = sequence;
        this.tokens[i] = tokens;
        offsets[i] = offset;
        starts[i] = startPos;
        counts[i] = n;
        planners[i] = planner;
        firstRows[i] = rows;
        rows += n;
        return i;
    }

    /** Sequences in the current call. */
    public int size() {
        return size;
    }

    /** The logits after sequence {@code index}'s last token in the last call; valid until the next call. */
    public float[] logits(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("sequence " + index + " of " + size);
        }
        return logits[index];
    }

    /** Rows (tokens, all sequences together) block {@code block} ran attention and feed-forward on in the last call. */
    public int rowsRun(int block) {
        return work.rowsRun(block);
    }

    /**
     * Each sequence's plan into its rows of {@code masks} (arriving all true): its planner sees its own state (start
     * position, token count, block-0 keys and values) exactly as in a call of its own.
     */
    void plan(boolean[] masks) {
        for (int i = 0; i < size; i++) {
            LayerPlanner planner = planners[i];
            if (planner == null) {
                continue;
            }
            InferenceState member = members[i];
            int n = counts[i];
            int row = firstRows[i] * layers;
            if (planner.plansPerToken()) {
                Arrays.fill(member.tokenMasks, 0, n * layers, true);
                planner.planTokens(member, member.tokenMasks);
                System.arraycopy(member.tokenMasks, 0, masks, row, n * layers);
            } else {
                Arrays.fill(member.runBlock, true);
                planner.plan(member, member.runBlock);
                for (int t = 0; t < n; t++) {
                    System.arraycopy(member.runBlock, 0, masks, row + t * layers, layers);
                }
            }
            for (int t = 0; t < n; t++) {
                masks[row + t * layers] = true; // block 0 has run: entry 0 is ignored, as in a call of its own
            }
        }
    }
}
