package dev.buddy.router.train;

import java.util.Arrays;

import dev.buddy.engine.model.LayerWeights;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tensor.WeightMatrix;
import dev.buddy.router.FeatureSource;

/**
 * A training forward and backward pass of a frozen model over one sequence, with a gate per block:
 * {@code h_{l+1} = h_l + m_l·F_l(h_l)}, where {@code F_l} is block l's whole residual branch (attention and FFN). With
 * {@code m_l = 1} the block runs as in inference; with {@code m_l = 0} it is skipped by identity, as BUDDY skips it.
 *
 * <p>The gradient of the loss with respect to a gate is {@code ∂L/∂m_l = Σ_t ⟨∂L/∂h_{l+1}, F_l(h_l)⟩}, which needs
 * {@code F_l(h_l)} even for a skipped block: with {@code probeSkipped} the forward pass computes it (the block's
 * output is still not added), so the straight-through estimator gets a real first-order signal for blocks the hard
 * mask left out. No backward pass runs through a skipped block: its gate is 0, so nothing flows through F.
 *
 * <p>Buffers are allocated once for {@code capacity} positions; one instance serves one sequence at a time.
 */
final class ModelPass {
    /** Target rows whose logits exist at once: bounds the logits buffer to this many vocabulary-wide rows. */
    private static final int HEAD_CHUNK = 64;

    private final FrozenModel model;
    private final ModelSpec spec;
    private final int capacity;
    private final int dim;
    private final Parallel pool;
    private final BlockPass blockPass;
    private final BlockTape[] tapes;
    private final float[] embeddings;
    private final float[] hidden;
    private final float[] normed;
    private final float[] invRms;
    private final float[] gates;
    private final float[] compact;
    private final float[] logits;
    private final double[] rowLoss;
    private final double[] positionLoss;
    /** Per position, whether it skips the block {@link #forwardPerPosition} is running (zeros policy). */
    private final boolean[] skipped;
    private final int[] rows;
    private final float[] dCompact;
    private final float[] dNormed;
    private final float[] grad;
    private final float[] dDelta;
    private int length;
    private boolean probed;
    /** Per block: its tape's delta is F of its current input (computed since the last {@link #finishForward}). */
    private final boolean[] deltaFresh;

    ModelPass(FrozenModel model, int capacity, Parallel pool) {
        this.model = model;
        this.spec = model.spec();
        this.capacity = capacity;
        this.dim = spec.embeddingLength();
        this.pool = pool;
        RopeRotation rope = new RopeRotation(model.rope(), capacity);
        this.blockPass = new BlockPass(spec, rope, capacity);
        this.tapes = new BlockTape[spec.blockCount()];
        for (int i = 0; i < tapes.length; i++) {
            tapes[i] = blockPass.newTape();
        }
        this.embeddings = new float[capacity * dim];
        this.hidden = new float[capacity * dim];
        this.normed = new float[capacity * dim];
        this.invRms = new float[capacity];
        this.gates = new float[spec.blockCount()];
        this.deltaFresh = new boolean[spec.blockCount()];
        int chunk = Math.min(HEAD_CHUNK, capacity);
        this.compact = new float[chunk * dim];
        this.logits = new float[chunk * spec.vocabSize()];
        this.rowLoss = new double[chunk];
        this.positionLoss = new double[capacity];
        this.skipped = new boolean[capacity];
        this.rows = new int[chunk];
        this.dCompact = new float[chunk * dim];
        this.dNormed = new float[capacity * dim];
        this.grad = new float[capacity * dim];
        this.dDelta = new float[capacity * dim];
    }

    int capacity() {
        return capacity;
    }

    ModelSpec spec() {
        return spec;
    }

    /** The embedding rows h_0 the next {@link #forward} starts from; tests perturb them directly. */
    float[] embeddings() {
        return embeddings;
    }

    /** The last hidden state of the last forward pass or probe (before the output norm), {@code dim} per position. */
    float[] finalHidden() {
        return hidden;
    }

    /** Looks up the token embeddings of {@code tokens[0..n)} into {@link #embeddings()}. */
    void embed(int[] tokens, int n) {
        requireLength(n);
        WeightMatrix table = model.embedding();
        for (int t = 0; t < n; t++) {
            int token = tokens[t];
            if (token < 0 || token >= spec.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " at position " + t
                        + " is outside the vocabulary of " + spec.vocabSize());
            }
            table.row(token, embeddings, t * dim);
        }
    }

    /**
     * Starts a forward pass over positions {@code 0..n} from {@link #embeddings()}: runs block 0, which is all the
     * router needs to read its layer-0 features ({@link #layer0Features}) before the gates are chosen.
     */
    void beginForward(int n) {
        requireLength(n);
        this.length = n;
        System.arraycopy(embeddings, 0, tapes[0].input, 0, n * dim);
        blockPass.forward(model.blocks()[0], tapes[0], 0, n, pool);
    }

    /**
     * Finishes the pass {@link #beginForward} started: block l's branch is added with weight {@code gates[l]}
     * (block 0's included).
     *
     * @param probeSkipped compute F for blocks whose gate is 0 too, so their gate gradient is available
     */
    void finishForward(float[] blockGates, boolean probeSkipped) {
        if (blockGates.length != gates.length) {
            throw new IllegalArgumentException("need " + gates.length + " gates, got " + blockGates.length);
        }
        System.arraycopy(blockGates, 0, gates, 0, gates.length);
        this.probed = probeSkipped;
        Arrays.fill(deltaFresh, false);
        runBlocks(0, probeSkipped);
    }

    /**
     * The summed NLL of the sequence routed by {@code blockGates} instead, for a finite-difference gate probe: re-runs
     * only blocks {@code from..} (the earlier blocks' inputs must be those of this gating, i.e. {@code blockGates}
     * agrees with the last pass below {@code from}, and no probe since started above {@code from}), then the head
     * without gradient. Overwrites the tapes above block {@code from}, so call it after {@link #backward}; probes
     * of one sequence go from the highest {@code from} to the lowest. Block {@code from}'s own F(h) is reused when
     * the last pass computed it (it ran, or was probed), since its input has not changed.
     */
    double probeLoss(float[] blockGates, int from, int[] targets) {
        probe(blockGates, from);
        return headLoss(targets, 1f, false);
    }

    /** {@link #probeLoss} without the head: the probe's last hidden state is then there for {@link #headLoss}. */
    void probe(float[] blockGates, int from) {
        if (from < 1 || blockGates.length != gates.length) {
            throw new IllegalArgumentException("a probe re-runs blocks 1.., with one gate per block");
        }
        System.arraycopy(blockGates, 0, gates, 0, gates.length);
        this.probed = false;
        runBlocks(from, false);
    }

    private void runBlocks(int from, boolean probeSkipped) {
        int n = length;
        LayerWeights[] blocks = model.blocks();
        int size = n * dim;
        for (int l = from; l < blocks.length; l++) {
            BlockTape tape = tapes[l];
            float[] next = l + 1 < blocks.length ? tapes[l + 1].input : hidden;
            float m = gates[l];
            boolean reuse = l == from && deltaFresh[l];
            if (l > 0 && (m != 0f || probeSkipped) && !reuse) {
                blockPass.forward(blocks[l], tape, 0, n, pool);
                deltaFresh[l] = true;
            }
            if (m == 0f) {
                System.arraycopy(tape.input, 0, next, 0, size);
            } else {
                for (int i = 0; i < size; i++) {
                    next[i] = tape.input[i] + m * tape.delta[i];
                }
            }
        }
    }

    /**
     * A forward pass over positions {@code 0..n} from {@link #embeddings()} in which every position takes its own
     * route: block l's branch is added at position t when {@code takes[t][l]}. A block runs over every position when
     * any position takes it; what a position that skips it leaves there for the others to attend to is
     * {@code policy}'s: a key and value projected from its own residual stream ({@link SkippedKvPolicy#COMPUTE_KV})
     * or zero rows ({@link SkippedKvPolicy#ZEROS}), as the engine's KV cache holds them. The last hidden state is then
     * there for {@link #headLoss}; gate probes and {@link #backward} are not defined after it.
     *
     * @throws IllegalArgumentException for {@link SkippedKvPolicy#MASK}, which this pass does not implement
     */
    void forwardPerPosition(int n, boolean[][] takes, SkippedKvPolicy policy) {
        if (policy == SkippedKvPolicy.MASK) {
            throw new IllegalArgumentException("a per-position pass implements the zeros and compute-kv policies");
        }
        requireLength(n);
        this.length = n;
        this.probed = false;
        Arrays.fill(deltaFresh, false);
        LayerWeights[] blocks = model.blocks();
        System.arraycopy(embeddings, 0, tapes[0].input, 0, n * dim);
        for (int l = 0; l < blocks.length; l++) {
            BlockTape tape = tapes[l];
            float[] next = l + 1 < blocks.length ? tapes[l + 1].input : hidden;
            boolean any = false;
            for (int t = 0; t < n; t++) {
                any |= takes[t][l];
            }
            if (any) {
                boolean[] zeroKv = null;
                if (policy == SkippedKvPolicy.ZEROS) {
                    zeroKv = skipped;
                    for (int t = 0; t < n; t++) {
                        zeroKv[t] = !takes[t][l];
                    }
                }
                blockPass.forward(blocks[l], tape, 0, n, zeroKv, pool);
            }
            for (int t = 0; t < n; t++) {
                int o = t * dim;
                if (takes[t][l]) {
                    for (int i = o; i < o + dim; i++) {
                        next[i] = tape.input[i] + tape.delta[i];
                    }
                } else {
                    System.arraycopy(tape.input, o, next, o, dim);
                }
            }
        }
    }

    /** {@link #beginForward} then {@link #finishForward}, for callers whose gates do not depend on block 0. */
    void forward(int n, float[] blockGates, boolean probeSkipped) {
        beginForward(n);
        finishForward(blockGates, probeSkipped);
    }

    /**
     * Writes position t's layer-0 router feature (the row the KV cache holds: V, K after norm and RoPE, or their
     * sum) to {@code dst[t·kvDim ..]} for {@code t < n}.
     */
    void layer0Features(FeatureSource source, int n, float[] dst) {
        BlockTape tape = tapes[0];
        int size = n * spec.kvDim();
        switch (source) {
            case VALUE -> System.arraycopy(tape.value, 0, dst, 0, size);
            case KEY -> System.arraycopy(tape.key, 0, dst, 0, size);
            case KEY_PLUS_VALUE -> {
                for (int i = 0; i < size; i++) {
                    dst[i] = tape.key[i] + tape.value[i];
                }
            }
        }
    }

    /**
     * Next-token cross-entropy over the positions with a target, after the final norm and the output projection.
     * With {@code withGradient}, also prepares the gradient of {@code lossScale · Σ NLL} at the last hidden state
     * for {@link #backward}.
     *
     * @param targets per position, the token it must predict, or -1 for no loss there
     * @return Σ of −log p(target) over the scored positions
     */
    double headLoss(int[] targets, float lossScale, boolean withGradient) {
        int n = length;
        int vocab = spec.vocabSize();
        WeightMatrix head = model.lmHead();
        RmsNorm.forward(hidden, n, dim, model.outputNorm(), spec.rmsEps(), normed, invRms);
        if (withGradient) {
            Arrays.fill(dNormed, 0, n * dim, 0f);
        }
        int chunk = compact.length / dim;
        double total = 0;
        int t = 0;
        while (t < n) {
            int count = 0;
            for (; t < n && count < chunk; t++) {
                int target = targets[t];
                if (target < 0) {
                    continue;
                }
                if (target >= vocab) {
                    throw new IllegalArgumentException("target token " + target + " at position " + t
                            + " is outside the vocabulary of " + vocab);
                }
                System.arraycopy(normed, t * dim, compact, count * dim, dim);
                rows[count++] = t;
            }
            if (count == 0) {
                continue;
            }
            head.matmul(compact, count, logits, pool);
            int chunkRows = count;
            pool.forRange(chunkRows, (from, to) -> {
                for (int r = from; r < to; r++) {
                    rowLoss[r] = crossEntropy(r, targets[rows[r]], lossScale, withGradient);
                }
            });
            for (int r = 0; r < count; r++) {
                total += rowLoss[r];
                positionLoss[rows[r]] = rowLoss[r];
            }
            if (withGradient) {
                Arrays.fill(dCompact, 0, count * dim, 0f);
                TransposedProduct.accumulate(head, logits, count, dCompact, pool);
                for (int r = 0; r < count; r++) {
                    System.arraycopy(dCompact, r * dim, dNormed, rows[r] * dim, dim);
                }
            }
        }
        if (withGradient) {
            Arrays.fill(grad, 0, n * dim, 0f);
            RmsNorm.backward(dNormed, hidden, invRms, model.outputNorm(), n, dim, grad);
        }
        return total;
    }

    /** −log softmax(logits row r)[target]; optionally overwrites the row with {@code scale·(softmax − onehot)}. */
    private double crossEntropy(int r, int target, float scale, boolean withGradient) {
        int vocab = spec.vocabSize();
        int o = r * vocab;
        float targetLogit = logits[o + target];
        float max = Vec.max(logits, o, vocab);
        // exp(logit − max) in place; the softmax then needs one scale, the gradient one subtraction.
        double sum = Vec.expShifted(logits, o, vocab, max);
        double logSumExp = max + Math.log(sum);
        double nll = logSumExp - targetLogit;
        if (withGradient) {
            Vec.scale(logits, o, vocab, (float) (scale / sum));
            logits[o + target] -= scale;
        }
        return nll;
    }

    /**
     * Per position, −log p(target) from the last {@link #headLoss} that scored it (positions a call did not score
     * keep what an earlier call wrote).
     */
    double[] positionLosses() {
        return positionLoss;
    }

    /**
     * Back-propagates the gradient {@link #headLoss} prepared, from the last block down to block
     * {@code lowestGate}, writing {@code ∂L/∂m_l} into {@code gateGradients[l]} for every
     * {@code l ≥ lowestGate}. Blocks whose gate is 0 pass the gradient through unchanged; with {@code toInput} the
     * pass continues through block {@code lowestGate} itself, leaving {@code ∂L/∂h_0} in {@link #inputGradient()}
     * when {@code lowestGate == 0}.
     */
    void backward(int lowestGate, boolean toInput, double[] gateGradients) {
        int n = length;
        int size = n * dim;
        LayerWeights[] blocks = model.blocks();
        for (int l = blocks.length - 1; l >= lowestGate; l--) {
            BlockTape tape = tapes[l];
            float m = gates[l];
            boolean haveDelta = m != 0f || probed;
            gateGradients[l] = haveDelta ? Vec.dotDouble(grad, 0, tape.delta, 0, size) : 0.0;
            if (m != 0f && (l > lowestGate || toInput)) {
                if (tape.lora != null) {
                    tape.lora.setGate(m);
                }
                blockPass.backward(blocks[l], tape, grad, 0, n, dDelta, pool);
                for (int i = 0; i < size; i++) {
                    grad[i] += m * dDelta[i];
                }
            }
        }
    }

    /**
     * The full logits row of one position of the last forward pass (final norm and output projection), for
     * comparisons with the inference engine (allocates; not for the training loop).
     */
    void logits(int position, float[] dst) {
        float[] row = new float[dim];
        float[] inv = new float[1];
        float[] in = java.util.Arrays.copyOfRange(hidden, position * dim, (position + 1) * dim);
        RmsNorm.forward(in, 1, dim, model.outputNorm(), spec.rmsEps(), row, inv);
        model.lmHead().matvec(row, 0, dst, 0, pool);
    }

    /** After {@link #backward} with {@code toInput}: the gradient at the input of block {@code lowestGate}. */
    float[] inputGradient() {
        return grad;
    }

    /** Block l's input rows from the last forward pass (the residual stream before block l). */
    float[] blockInput(int l) {
        return tapes[l].input;
    }

    /** Block l's F(h) from the last forward pass (valid when it ran or was probed). */
    float[] blockDelta(int l) {
        return tapes[l].delta;
    }

    // ---- LoRA (train-router --lora) -----------------------------------------------------------------------------

    /**
     * From now on every block runs with its adapters from {@code adapters} added to its projections, and backward
     * passes through a block add its adapters' weight gradients into {@code gradient}. Only blocks the backward pass
     * goes through get gradients: to train the adapters of every executed block, call
     * {@link #backward} with {@code lowestGate = 0, toInput = true}.
     */
    void attachAdapters(dev.buddy.router.lora.LoraAdapters adapters, double[] gradient) {
        var scratch = dev.buddy.router.lora.LoraLayer.Scratch.forLayer(adapters, capacity);
        for (int l = 0; l < tapes.length; l++) {
            tapes[l].lora = adapters.trainingBlock(l, capacity, gradient, scratch);
        }
    }

    private void requireLength(int n) {
        if (n < 1 || n > capacity) {
            throw new IllegalArgumentException("sequence of " + n + " positions; this pass holds 1.." + capacity);
        }
    }
}
