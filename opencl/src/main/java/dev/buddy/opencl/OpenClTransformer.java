package dev.buddy.opencl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import dev.buddy.engine.model.ContextOverflowException;
import dev.buddy.engine.model.LayerPlanContext;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.ModelLoadException;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.Rope;
import dev.buddy.engine.model.RopeStyle;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TensorInfo;
import dev.buddy.gguf.codec.BlockCodecs;

/**
 * A Llama/Qwen forward pass that lives on the device: weights are uploaded once in their GGUF layout, and the hidden
 * state, KV cache, RoPE table and scratch stay there. Per forward call the host sends the token ids and reads back
 * the logits (or only the greedy token id); for routing it reads block 0's keys or values only when the planner asks
 * for them, and it enqueues only the blocks the planner keeps.
 *
 * <p>Not thread-safe; one sequence at a time (positions are the caller's, as in the CPU backend).
 */
public final class OpenClTransformer implements AutoCloseable {
    private final OpenClKernels k;
    private final ClContext ctx;
    private final ModelSpec spec;
    private final OpenClModelOptions options;
    private final AttentionShape shape;
    private final DeviceMatrix tokenEmbedding;
    private final DeviceMatrix output;
    private final ClBuffer outputNorm;
    private final DeviceBlock[] blocks;
    private final InputFormat[] outputInputs;
    private final ClBuffer[] keyCache;
    private final ClBuffer[] valueCache;
    private final ClBuffer[] valid;
    private final ClBuffer ropeTable;
    private final ClBuffer tokens;
    private final ClBuffer x;
    private final ClBuffer xb;
    private final ClBuffer q;
    private final ClBuffer kv;
    private final ClBuffer v;
    private final ClBuffer att;
    private final ClBuffer hb;
    private final ClBuffer hb2;
    private final ClBuffer logits;
    private final ClBuffer argmax;
    private final Map<InputFormat, DeviceInput> inputs = new EnumMap<>(InputFormat.class);
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final boolean[] runBlock;
    /** Bytes per stored K or V element: 4, or 2 for an F16 cache. */
    private final int kvBytes;
    private final boolean halfCache;
    /** Bytes uploaded from the GGUF: weight matrices as stored, norms and biases as floats. */
    private long weightBytes;
    private long kvCacheBytes;
    private final PlanContext planContext = new PlanContext();

    private OpenClTransformer(OpenClKernels kernels, GgufFile gguf, ModelSpec spec, OpenClModelOptions options) {
        this.k = kernels;
        this.ctx = kernels.context();
        this.spec = spec;
        this.options = options;
        this.shape = new AttentionShape(spec.headCount(), spec.headCountKv(), spec.headDim(), spec.rope().dimensions(),
                spec.rope().style() == RopeStyle.NEOX);
        boolean exact = options.exactInputs();
        int layers = spec.blockCount();
        int batch = options.maxBatch();
        int ctxLen = options.contextLength();
        this.kvBytes = options.kvElementBytes();
        this.halfCache = kvBytes == 2;
        try {
            tokenEmbedding = matrix(gguf, "token_embd.weight");
            outputNorm = vector(gguf, "output_norm.weight");
            output = spec.tiedEmbeddings() ? tokenEmbedding : matrix(gguf, "output.weight");
            outputInputs = DeviceBlock.formats(exact, output);
            blocks = new DeviceBlock[layers];
            for (int l = 0; l < layers; l++) {
                blocks[l] = block(gguf, l, exact);
            }
            keyCache = new ClBuffer[layers];
            valueCache = new ClBuffer[layers];
            valid = new ClBuffer[layers];
            long cacheBytes = (long) kvBytes * ctxLen * spec.kvDim();
            for (int l = 0; l < layers; l++) {
                // One buffer per layer keeps each under the device's largest allocation.
                keyCache[l] = own(ctx.allocateZeroed(cacheBytes));
                valueCache[l] = own(ctx.allocateZeroed(cacheBytes));
                valid[l] = own(ctx.allocate(4L * ctxLen));
                kvCacheBytes += 2 * cacheBytes;
                ctx.fill(valid[l], 0, 4L * ctxLen, 1);
            }
            ropeTable = own(ctx.upload(ropeTable(spec, ctxLen)));
            int widest = Math.max(Math.max(spec.embeddingLength(), spec.queryDim()), spec.feedForwardLength());
            tokens = own(ctx.allocate(4L * batch));
            x = own(ctx.allocate(4L * batch * spec.embeddingLength()));
            xb = own(ctx.allocate(4L * batch * widest));
            q = own(ctx.allocate(4L * batch * spec.queryDim()));
            kv = own(ctx.allocate(4L * batch * spec.kvDim()));
            v = own(ctx.allocate(4L * batch * spec.kvDim()));
            att = own(ctx.allocate(4L * batch * spec.queryDim()));
            hb = own(ctx.allocate(4L * batch * spec.feedForwardLength()));
            hb2 = own(ctx.allocate(4L * batch * spec.feedForwardLength()));
            logits = own(ctx.allocate(4L * spec.vocabSize()));
            argmax = own(ctx.allocate(4));
            for (InputFormat f : InputFormat.values()) {
                if (f != InputFormat.FLOAT && usesInput(f)) {
                    inputs.put(f, own(k.allocateInput(batch * widest)));
                }
            }
            // FLOAT input only references the activation buffer, so one small holder serves every use.
            inputs.put(InputFormat.FLOAT, own(k.allocateInput(32)));
            runBlock = new boolean[layers];
        } catch (RuntimeException e) {
            closeOwned();
            throw e;
        }
    }

    /**
     * Uploads the model in {@code gguf} (already described by {@code spec}) to the kernels' device.
     *
     * @throws ModelLoadException when a tensor is missing or has the wrong shape
     * @throws OpenClUnsupportedTypeException when a weight's type has no OpenCL kernel
     * @throws OpenClException when the device runs out of memory
     */
    public static OpenClTransformer load(OpenClKernels kernels, GgufFile gguf, ModelSpec spec,
            OpenClModelOptions options) {
        return new OpenClTransformer(kernels, gguf, spec, options);
    }

    public ModelSpec spec() {
        return spec;
    }

    public OpenClModelOptions options() {
        return options;
    }

    public int vocabSize() {
        return spec.vocabSize();
    }

    /** Bytes of weights uploaded to the device (matrices in their GGUF layout, norms and biases as floats). */
    public long weightBytes() {
        return weightBytes;
    }

    /** Bytes of the device KV cache (keys and values of every layer at every position). */
    public long kvCacheBytes() {
        return kvCacheBytes;
    }

    /** Forgets every position: all KV rows count as valid again (they are rewritten before they are read). */
    public void reset() {
        for (ClBuffer b : valid) {
            ctx.fill(b, 0, b.byteSize(), 1);
        }
    }

    /**
     * Runs {@code n} tokens at positions {@code startPos..}, in chunks of at most {@code maxBatch} (each chunk is one
     * forward call for the planner), and when {@code logitsOut} is not null writes the last token's logits there.
     *
     * @throws ContextOverflowException when the positions do not fit the device KV cache
     */
    public void forward(int[] tokenIds, int offset, int n, int startPos, LayerPlanner planner, float[] logitsOut) {
        run(tokenIds, offset, n, startPos, planner, logitsOut != null);
        if (logitsOut != null) {
            ctx.read(logits, 0, logitsOut, 0, spec.vocabSize());
        }
    }

    /**
     * {@link #forward} followed by an on-device argmax: only the chosen token id comes back (greedy decoding, lowest
     * id on ties as the CPU sampler).
     */
    public int forwardGreedy(int[] tokenIds, int offset, int n, int startPos, LayerPlanner planner) {
        run(tokenIds, offset, n, startPos, planner, true);
        k.argmax(logits, spec.vocabSize(), argmax);
        return ctx.readInt(argmax, 0);
    }

    private void run(int[] tokenIds, int offset, int n, int startPos, LayerPlanner planner, boolean wantLogits) {
        if (planner == null) {
            planner = LayerPlanner.ALL_BLOCKS;
        }
        if (n <= 0) {
            throw new IllegalArgumentException("forward needs at least one token, got " + n);
        }
        if (startPos < 0 || (long) startPos + n > options.contextLength()) {
            throw new ContextOverflowException(startPos + n, options.contextLength());
        }
        for (int done = 0; done < n; ) {
            int chunk = Math.min(options.maxBatch(), n - done);
            chunk(tokenIds, offset + done, chunk, startPos + done, planner, wantLogits && done + chunk == n);
            done += chunk;
        }
    }

    private void chunk(int[] tokenIds, int offset, int n, int pos, LayerPlanner planner, boolean wantLogits) {
        int dim = spec.embeddingLength();
        for (int i = 0; i < n; i++) {
            int id = tokenIds[offset + i];
            if (id < 0 || id >= spec.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " outside the vocabulary of " + spec.vocabSize());
            }
        }
        if (n == 1) {
            ctx.writeInt(tokens, 0, tokenIds[offset]); // decode: through native scratch, no allocation
        } else {
            ctx.write(tokens, 0, tokenIds, offset, n);
        }
        k.getRows(tokenEmbedding, tokens, n, x);
        Arrays.fill(runBlock, true);
        for (int l = 0; l < blocks.length; l++) {
            if (l == 1 && planner != LayerPlanner.ALL_BLOCKS) {
                planContext.set(pos, n);
                planner.plan(planContext, runBlock);
            }
            if (l == 0 || runBlock[l]) {
                block(l, n, pos);
            } else {
                skip(l, n, pos);
            }
        }
        if (wantLogits) {
            k.rmsNorm(x, outputNorm, xb, dim, n, spec.rmsEps());
            for (InputFormat f : outputInputs) {
                k.prepareInput(f, xb, (n - 1) * dim, 1, dim, inputs.get(f));
            }
            product(output, logits, 1, false);
        }
    }

    private void block(int l, int n, int pos) {
        DeviceBlock b = blocks[l];
        int dim = spec.embeddingLength();
        float eps = spec.rmsEps();
        if (options.skippedKvPolicy() == SkippedKvPolicy.MASK) {
            ctx.fill(valid[l], 4L * pos, 4L * n, 1);
        }
        k.rmsNorm(x, b.attnNorm(), xb, dim, n, eps);
        prepare(b.qkvInputs(), xb, n, dim);
        product(b.wq(), q, n, false);
        product(b.wk(), kv, n, false);
        product(b.wv(), v, n, false);
        biasAndNorm(b, n, true);
        k.ropeKv(shape, q, kv, v, keyCache[l], valueCache[l], ropeTable, pos, n, 0, halfCache);
        k.attention(shape, q, keyCache[l], valueCache[l],
                options.skippedKvPolicy() == SkippedKvPolicy.MASK ? valid[l] : null, att, pos, n, 0, halfCache);
        prepare(b.woInputs(), att, n, spec.queryDim());
        product(b.wo(), x, n, true);
        k.rmsNorm(x, b.ffnNorm(), xb, dim, n, eps);
        prepare(b.gateUpInputs(), xb, n, dim);
        product(b.gate(), hb, n, false);
        product(b.up(), hb2, n, false);
        k.swiglu(hb, hb2, n * spec.feedForwardLength());
        prepare(b.downInputs(), hb, n, spec.feedForwardLength());
        product(b.down(), x, n, true);
    }

    /** A skipped block is the identity on the residual; its KV slots follow the policy. */
    private void skip(int l, int n, int pos) {
        long offset = (long) kvBytes * pos * spec.kvDim();
        long bytes = (long) kvBytes * n * spec.kvDim();
        switch (options.skippedKvPolicy()) {
            case ZEROS -> {
                ctx.fillZero(keyCache[l], offset, bytes);
                ctx.fillZero(valueCache[l], offset, bytes);
            }
            case MASK -> ctx.fillZero(valid[l], 4L * pos, 4L * n);
            case COMPUTE_KV -> {
                DeviceBlock b = blocks[l];
                k.rmsNorm(x, b.attnNorm(), xb, spec.embeddingLength(), n, spec.rmsEps());
                prepare(b.kvInputs(), xb, n, spec.embeddingLength());
                product(b.wk(), kv, n, false);
                product(b.wv(), v, n, false);
                biasAndNorm(b, n, false);
                k.storeKv(shape, kv, v, keyCache[l], valueCache[l], ropeTable, pos, n, 0, halfCache);
            }
        }
    }

    private void biasAndNorm(DeviceBlock b, int n, boolean withQueries) {
        if (b.bq() != null) {
            if (withQueries) {
                k.add(q, b.bq(), spec.queryDim(), n * spec.queryDim());
            }
            k.add(kv, b.bk(), spec.kvDim(), n * spec.kvDim());
            k.add(v, b.bv(), spec.kvDim(), n * spec.kvDim());
        }
        if (b.qNorm() != null) {
            if (withQueries) {
                k.rmsNorm(q, b.qNorm(), q, spec.headDim(), n * spec.headCount(), spec.rmsEps());
            }
            k.rmsNorm(kv, b.kNorm(), kv, spec.headDim(), n * spec.headCountKv(), spec.rmsEps());
        }
    }

    private void prepare(InputFormat[] formats, ClBuffer activations, int n, int cols) {
        for (InputFormat f : formats) {
            k.prepareInput(f, activations, 0, n, cols, inputs.get(f));
        }
    }

    /** out (+)= w · input for n tokens, through the input the weight's format needs (prepared just before). */
    private void product(DeviceMatrix w, ClBuffer out, int n, boolean accumulate) {
        if (options.exactInputs()) {
            k.matvec(w, inputs.get(InputFormat.forWeight(w.type())), out, 0, w.rows(), accumulate);
            return;
        }
        DeviceInput in = inputs.get(InputFormat.FLOAT);
        if (n > 1 && in.sourceOffset == 0) {
            k.matmul(w, in.source, n, out, accumulate);
        } else {
            k.matvec(w, in.source, in.sourceOffset, n, out, 0, w.rows(), accumulate);
        }
    }

    private boolean usesInput(InputFormat f) {
        if (!options.exactInputs()) {
            return false;
        }
        for (DeviceBlock b : blocks) {
            for (DeviceMatrix m : new DeviceMatrix[] {b.wq(), b.wk(), b.wv(), b.wo(), b.gate(), b.up(), b.down()}) {
                if (InputFormat.forWeight(m.type()) == f) {
                    return true;
                }
            }
        }
        return InputFormat.forWeight(output.type()) == f;
    }

    // ---- loading ----------------------------------------------------------------------------------------------

    private DeviceBlock block(GgufFile gguf, int l, boolean exact) {
        String p = "blk." + l + ".";
        DeviceMatrix wq = matrix(gguf, p + "attn_q.weight");
        DeviceMatrix wk = matrix(gguf, p + "attn_k.weight");
        DeviceMatrix wv = matrix(gguf, p + "attn_v.weight");
        DeviceMatrix wo = matrix(gguf, p + "attn_output.weight");
        DeviceMatrix gate = matrix(gguf, p + "ffn_gate.weight");
        DeviceMatrix up = matrix(gguf, p + "ffn_up.weight");
        DeviceMatrix down = matrix(gguf, p + "ffn_down.weight");
        expect(wq, spec.embeddingLength(), spec.queryDim());
        expect(wk, spec.embeddingLength(), spec.kvDim());
        expect(wv, spec.embeddingLength(), spec.kvDim());
        expect(wo, spec.queryDim(), spec.embeddingLength());
        expect(gate, spec.embeddingLength(), spec.feedForwardLength());
        expect(up, spec.embeddingLength(), spec.feedForwardLength());
        expect(down, spec.feedForwardLength(), spec.embeddingLength());
        boolean bias = spec.qkvBias();
        return new DeviceBlock(vector(gguf, p + "attn_norm.weight"), wq, wk, wv, wo,
                bias ? vector(gguf, p + "attn_q.bias") : null, bias ? vector(gguf, p + "attn_k.bias") : null,
                bias ? vector(gguf, p + "attn_v.bias") : null,
                spec.qkNorm() ? vector(gguf, p + "attn_q_norm.weight") : null,
                spec.qkNorm() ? vector(gguf, p + "attn_k_norm.weight") : null,
                vector(gguf, p + "ffn_norm.weight"), gate, up, down,
                DeviceBlock.formats(exact, wq, wk, wv), DeviceBlock.formats(exact, wk, wv),
                DeviceBlock.formats(exact, wo), DeviceBlock.formats(exact, gate, up),
                DeviceBlock.formats(exact, down));
    }

    private static void expect(DeviceMatrix m, int cols, int rows) {
        if (m.cols() != cols || m.rows() != rows) {
            throw new ModelLoadException("tensor " + m.name() + " is [" + m.cols() + ", " + m.rows() + "], expected ["
                    + cols + ", " + rows + "]");
        }
    }

    private DeviceMatrix matrix(GgufFile gguf, String name) {
        TensorInfo t = tensor(gguf, name);
        DeviceMatrix m = own(k.upload(name, t.type(), t.dims(), gguf.tensorData(t)));
        weightBytes += m.buffer().byteSize();
        return m;
    }

    /** Norm weights and biases as floats, whatever their stored type. */
    private ClBuffer vector(GgufFile gguf, String name) {
        TensorInfo t = tensor(gguf, name);
        float[] values = BlockCodecs.dequantize(t.type(), gguf.tensorData(t), t.elementCount());
        weightBytes += 4L * values.length;
        return own(ctx.upload(values));
    }

    private static TensorInfo tensor(GgufFile gguf, String name) {
        return gguf.findTensor(name).orElseThrow(() -> new ModelLoadException("missing tensor '" + name + "'"));
    }

    /** (cos, sin) of every pair at every position, computed by the CPU backend's {@link Rope} so angles agree. */
    private static float[] ropeTable(ModelSpec spec, int positions) {
        Rope rope = new Rope(spec.rope());
        int pairs = rope.dimensions() / 2;
        float[] cos = new float[pairs];
        float[] sin = new float[pairs];
        float[] table = new float[positions * pairs * 2];
        for (int p = 0; p < positions; p++) {
            rope.angles(p, cos, sin, 0);
            for (int i = 0; i < pairs; i++) {
                table[(p * pairs + i) * 2] = cos[i];
                table[(p * pairs + i) * 2 + 1] = sin[i];
            }
        }
        return table;
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    private void closeOwned() {
        RuntimeException first = null;
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new IllegalStateException(e);
                }
            }
        }
        owned.clear();
        if (first != null) {
            throw first;
        }
    }

    /** Frees every device buffer this model holds (the kernels and context stay with their owner). */
    @Override
    public void close() {
        closeOwned();
    }

    /** What the planner sees: block 0's keys and values, read from the device only when asked for. */
    private final class PlanContext implements LayerPlanContext {
        private int start;
        private int count;

        void set(int startPosition, int tokenCount) {
            this.start = startPosition;
            this.count = tokenCount;
        }

        @Override
        public int layerCount() {
            return blocks.length;
        }

        @Override
        public int startPosition() {
            return start;
        }

        @Override
        public int tokenCount() {
            return count;
        }

        @Override
        public int kvDim() {
            return spec.kvDim();
        }

        @Override
        public void layer0Value(int position, float[] dst, int dstOffset) {
            readRow(valueCache[0], position, dst, dstOffset);
        }

        @Override
        public void layer0Key(int position, float[] dst, int dstOffset) {
            readRow(keyCache[0], position, dst, dstOffset);
        }

        private void readRow(ClBuffer cache, int position, float[] dst, int dstOffset) {
            if (position < 0 || position >= start + count) {
                throw new IndexOutOfBoundsException("position " + position + " has no block-0 row yet (computed up to "
                        + (start + count - 1) + ")");
            }
            long offset = (long) kvBytes * position * spec.kvDim();
            if (halfCache) {
                ctx.readHalves(cache, offset, dst, dstOffset, spec.kvDim());
            } else {
                ctx.read(cache, offset, dst, dstOffset, spec.kvDim());
            }
        }
    }
}
