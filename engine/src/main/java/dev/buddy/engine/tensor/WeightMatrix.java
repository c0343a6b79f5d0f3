package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A weight matrix in its GGUF storage format, read in place from the (mapped) tensor data: {@code rows} rows of
 * {@code cols} elements, row-major, each row a whole number of blocks. One subclass per GGML format holds that
 * format's scalar reference kernel and its SIMD kernels per {@link VectorWidth}.
 *
 * <p>Products follow llama.cpp's CPU backend: the input is first converted to the format's
 * {@link #activationFormat()} (quantised to int8 blocks for the quantised formats, rounded to fp16/bf16 for the
 * 16-bit float formats), then each block is an exact integer dot product scaled by {@code d_w * d_x} in float. The
 * scalar and SIMD kernels compute the same integer block sums; they differ only in the order the scaled block sums
 * are added.
 *
 * <p>Thread-safety: a matrix is immutable. Any number of threads may call any method concurrently; the single-input
 * overloads quantise into scratch owned by the calling thread (allocated once per thread and format).
 */
public abstract sealed class WeightMatrix
        permits FloatFormatMatrix, Q8_0Matrix, Q4_0Matrix, Q4_1Matrix, Q5_0Matrix, Q5_1Matrix, KQuantMatrix {

    /** Roughly how many weight elements (times tokens) a parallel chunk should cover to be worth a hand-off. */
    private static final int ELEMENTS_PER_CHUNK = 1 << 15;

    /** Minimum kernel calls in {@link #warmUp()}: above C2's tier-4 invocation threshold (5000) with margin. */
    private static final int WARM_UP_CALLS = 12_000;
    private static final int WARM_UP_BATCH = 256;
    /**
     * A warm-up round slower than this per weight-token product still runs interpreted or in C1 code, which boxes
     * every vector: compiled kernels take 0.04-0.2 ns (Q4_K's eight-row tile to Q6_K's prompt GEMM, which widens its
     * weights to floats), C1's several ns.
     */
    private static final double COMPILED_NANOS_PER_PRODUCT = 1.0;
    private static final long WARM_UP_LIMIT_MILLIS = 60_000;

    /**
     * Parallel chunks start on a multiple of this many rows, so that row groups (eight rows of Q4_0, Q4_1 and Q4_K,
     * sixteen of Q8_0) are never split between two threads (each would compute the whole group; with eight chunks,
     * 2-3% of a matrix twice). In {@link #matmulAll} the rows of all matrices count as one range, which stays aligned
     * while every matrix but the last has a multiple of sixteen rows.
     */
    private static final int CHUNK_ALIGN = RowGroupLayout.MAX_GROUP_ROWS;

    /** Rows per cache block of the prefill driver. */
    private static final int ROW_BLOCK = 16;

    private static final ThreadLocal<CallScratch> SCRATCH = ThreadLocal.withInitial(CallScratch::new);
    private static final ThreadLocal<GroupCall> GROUP_CALL = ThreadLocal.withInitial(GroupCall::new);

    final String name;
    final GgmlType type;
    final int rows;
    final int cols;
    final MemorySegment data;
    final long rowBytes;
    final VectorWidth width;
    /** Added after every product; null for a plain matrix. Set only by {@link #withAddend}, before publication. */
    private ProductAddend addend;

    WeightMatrix(String name, GgmlType type, int rows, int cols, MemorySegment data, VectorWidth width) {
        this.name = name;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.data = data;
        this.rowBytes = type.byteSize(cols);
        this.width = width;
    }

    /** {@link #of(String, GgmlType, long[], MemorySegment, VectorWidth)} with {@link VectorWidth#preferred()}. */
    public static WeightMatrix of(String name, GgmlType type, long[] dims, MemorySegment data) {
        return of(name, type, dims, data, VectorWidth.preferred());
    }

    /**
     * Wraps tensor data: {@code cols = dims[0]} (the contiguous row length), {@code rows} = the product of the
     * remaining dims.
     *
     * @throws UnsupportedTensorTypeException when Buddy has no kernel for {@code type}, or the row length is not a
     *         whole number of blocks
     * @throws IllegalArgumentException when the shape is empty or {@code data} is smaller than the shape needs
     */
    public static WeightMatrix of(String name, GgmlType type, long[] dims, MemorySegment data, VectorWidth width) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(width, "width");
        if (dims == null || dims.length == 0) {
            throw new IllegalArgumentException("tensor '" + name + "' has no dimensions");
        }
        long colCount = dims[0];
        long rowCount = 1;
        for (int i = 1; i < dims.length; i++) {
            rowCount = Math.multiplyExact(rowCount, dims[i]);
        }
        if (colCount < 1 || rowCount < 1 || colCount > Integer.MAX_VALUE || rowCount > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + name + "' has an unusable shape "
                    + java.util.Arrays.toString(dims));
        }
        if (!type.isSupportedForCompute()) {
            throw new UnsupportedTensorTypeException(name, type);
        }
        if (colCount % type.blockSize() != 0) {
            throw new UnsupportedTensorTypeException(name, type, "tensor '" + name + "' of type " + type
                    + " has rows of " + colCount + " elements, not a multiple of the block size " + type.blockSize());
        }
        int r = (int) rowCount;
        int c = (int) colCount;
        long needed = Math.multiplyExact(type.byteSize(c), rowCount);
        if (data.byteSize() < needed) {
            throw new IllegalArgumentException("tensor '" + name + "' needs " + needed + " bytes for "
                    + r + "x" + c + " " + type + " but has " + data.byteSize());
        }
        return switch (type) {
            case F32 -> new F32Matrix(name, r, c, data, width);
            case F16 -> new F16Matrix(name, r, c, data, width);
            case BF16 -> new BF16Matrix(name, r, c, data, width);
            case Q8_0 -> new Q8_0Matrix(name, r, c, data, width);
            case Q4_0 -> new Q4_0Matrix(name, r, c, data, width);
            case Q4_1 -> new Q4_1Matrix(name, r, c, data, width);
            case Q5_0 -> new Q5_0Matrix(name, r, c, data, width);
            case Q5_1 -> new Q5_1Matrix(name, r, c, data, width);
            case Q4_K -> new Q4_KMatrix(name, r, c, data, width);
            case Q5_K -> new Q5_KMatrix(name, r, c, data, width);
            case Q6_K -> new Q6_KMatrix(name, r, c, data, width);
            default -> throw new UnsupportedTensorTypeException(name, type);
        };
    }

    public final String name() {
        return name;
    }

    public final GgmlType type() {
        return type;
    }

    public final int rows() {
        return rows;
    }

    public final int cols() {
        return cols;
    }

    /** The kernel width this matrix was built for. */
    public final VectorWidth width() {
        return width;
    }

    /** Bytes of weight data one full matvec streams. */
    public final long byteSize() {
        return rowBytes * rows;
    }

    /**
     * A view of the same (mapped, unchanged) data whose every product, single-token or batched, also adds
     * {@code addend}'s term: how a LoRA adapter is applied at load time. {@link #row} still returns the base row.
     */
    public final WeightMatrix withAddend(ProductAddend addend) {
        WeightMatrix m = of(name, type, new long[] {cols, rows}, data, width);
        m.addend = Objects.requireNonNull(addend, "addend");
        return m;
    }

    /** The term {@link #withAddend} attached, or null. */
    public final ProductAddend addend() {
        return addend;
    }

    /** The activation format this matrix's kernels consume; see {@link QuantizedInput}. */
    public abstract ActivationFormat activationFormat();

    /** Decode GEMV: {@code out[outOffset + r] = row_r . x[xOffset ..]} for every row. */
    public final void matvec(float[] x, int xOffset, float[] out, int outOffset, Parallel pool) {
        CallScratch scratch = SCRATCH.get();
        QuantizedInput in = scratch.input(activationFormat());
        in.quantize(x, xOffset, 1, cols, pool);
        run(scratch, in, out, outOffset, pool);
    }

    /** Decode GEMV on an input already converted (possibly shared with other matrices); it must hold one token. */
    public final void matvec(QuantizedInput in, float[] out, int outOffset, Parallel pool) {
        if (in.tokens() != 1) {
            throw new IllegalArgumentException("matvec needs a one-token input, got " + in.tokens() + " tokens");
        }
        matmul(in, out, outOffset, pool);
    }

    /** Prefill GEMM: {@code x} is {@code n x cols} row-major, {@code out} receives {@code n x rows} row-major. */
    public final void matmul(float[] x, int n, float[] out, Parallel pool) {
        CallScratch scratch = SCRATCH.get();
        QuantizedInput in = scratch.input(activationFormat());
        in.quantize(x, 0, n, cols, pool);
        run(scratch, in, out, 0, pool);
    }

    /**
     * Prefill GEMM on an input already converted (possibly shared with other matrices) of {@code in.tokens()}
     * tokens; token t's outputs go to {@code out[outOffset + t*rows ..]}.
     */
    public final void matmul(QuantizedInput in, float[] out, int outOffset, Parallel pool) {
        run(SCRATCH.get(), in, out, outOffset, pool);
    }

    private void run(CallScratch scratch, QuantizedInput in, float[] out, int outOffset, Parallel pool) {
        checkCall(in, out, outOffset);
        prepareInput(in);
        scratch.prepare(this, in, out, outOffset);
        try {
            pool.forRange(rows, grain(in.tokens()), CHUNK_ALIGN, scratch);
        } finally {
            scratch.clear();
        }
        addAddend(in, out, outOffset, pool);
    }

    /**
     * {@code outs[i] = ms[i] · in} (token-major from offset 0, as {@link #matmul(QuantizedInput, float[], int,
     * Parallel)} writes) for matrices that read the same converted input, such as Q, K and V, or gate and up: one
     * parallel region over all their rows instead of one region per matrix, so a decode step pays five hand-offs
     * (and waits for the slower thread) per block instead of eight. Every product is computed by the same kernels,
     * bit for bit.
     *
     * @throws IllegalArgumentException when a matrix needs another input format or column count than {@code in}
     */
    public static void matmulAll(QuantizedInput in, WeightMatrix[] ms, float[][] outs, Parallel pool) {
        if (ms.length != outs.length) {
            throw new IllegalArgumentException(ms.length + " matrices but " + outs.length + " outputs");
        }
        int totalRows = 0;
        int grain = Integer.MAX_VALUE;
        for (int i = 0; i < ms.length; i++) {
            ms[i].checkCall(in, outs[i], 0);
            ms[i].prepareInput(in);
            totalRows += ms[i].rows;
            grain = Math.min(grain, ms[i].grain(in.tokens()));
        }
        GroupCall call = GROUP_CALL.get();
        call.prepare(in, ms, outs);
        try {
            pool.forRange(totalRows, grain, CHUNK_ALIGN, call);
        } finally {
            call.clear();
        }
        for (int i = 0; i < ms.length; i++) {
            ms[i].addAddend(in, outs[i], 0, pool);
        }
    }

    private void checkCall(QuantizedInput in, float[] out, int outOffset) {
        if (in.format() != activationFormat()) {
            throw new IllegalArgumentException("matrix '" + name + "' (" + type + ") needs " + activationFormat()
                    + " input, got " + in.format());
        }
        if (in.cols() != cols) {
            throw new IllegalArgumentException("matrix '" + name + "' has " + cols + " columns but the input has "
                    + in.cols());
        }
        int tokens = in.tokens();
        if (outOffset < 0 || outOffset + (long) tokens * rows > out.length) {
            throw new IndexOutOfBoundsException("output of " + tokens + "x" + rows + " at offset " + outOffset
                    + " does not fit an array of " + out.length);
        }
    }

    /** Rows per parallel chunk, at least: enough weights times tokens to be worth a hand-off. */
    private int grain(int tokens) {
        return Math.max(1, ELEMENTS_PER_CHUNK / Math.max(1, cols * Math.min(tokens, 64)));
    }

    /** The input forms this matrix's kernels read, made once on the calling thread before the workers read them. */
    final void prepareInput(QuantizedInput in) {
        if (width != VectorWidth.SCALAR && readsPermutedInput(in.tokens())) {
            in.preparePermuted();
        }
        if (width != VectorWidth.SCALAR && readsBlockSums()) {
            in.prepareBlockSums();
        }
        if (width != VectorWidth.SCALAR && readsQ4KGroups(in.tokens())) {
            in.prepareQ4KGroups();
        }
        if (width != VectorWidth.SCALAR && readsQ4Pairs()) {
            in.prepareQ4Pairs();
        }
        if (width != VectorWidth.SCALAR && readsQ8Pairs()) {
            in.prepareQ8Pairs();
        }
        if (width != VectorWidth.SCALAR && readsQ6KPairs()) {
            in.prepareQ6KPairs();
        }
    }

    private void addAddend(QuantizedInput in, float[] out, int outOffset, Parallel pool) {
        if (addend != null) {
            addend.addTo(in.origin(), in.originOffset(), in.tokens(), out, outOffset, pool);
        }
    }

    /** Computes rows {@code [rowFrom, rowTo)} for every token of {@code in}. */
    final void computeRows(QuantizedInput in, int rowFrom, int rowTo, float[] out, int outOffset) {
        if (width == VectorWidth.SCALAR) {
            int tokens = in.tokens();
            for (int r = rowFrom; r < rowTo; r++) {
                for (int t = 0; t < tokens; t++) {
                    out[outOffset + t * rows + r] = scalarDot(r, in, t);
                }
            }
        } else {
            simdRows(in, rowFrom, rowTo, out, outOffset);
        }
    }

    /**
     * Runs this format's SIMD kernels (single-token, and the prompt path: its 4-token tile, {@link LanePrompt} or
     * {@link KQuantPromptGemm}, through the eight-row call) on a few blocks until the JIT has had reason to compile
     * them. Vector API code only runs fast once C2 has compiled it; before that every vector
     * operation allocates, and a kernel is 100-1000x slower. Without a warm-up the first prefill of a large model
     * spends seconds to minutes in that state, because the big tiled kernels are invoked comparatively rarely.
     * Kernels are shared by all matrices of one format and width, so warming one matrix per format is enough; it
     * takes a few seconds per format. Not called at model load: compiled there, on a few blocks and before the weights
     * were copied, the Q4_K_M file decoded 0.94x as fast (session 30, BENCHMARKS.md).
     */
    public final void warmUp() {
        warmUp(WARM_UP_LIMIT_MILLIS);
    }

    /** {@link #warmUp()}, giving up after {@code maxMillis} even if the JIT has not delivered compiled kernels. */
    public final void warmUp(long maxMillis) {
        if (width == VectorWidth.SCALAR) {
            return;
        }
        // several blocks, so the kernels' block loops iterate and C2 does not treat them as straight-line code
        int blockSize = type.blockSize();
        int warmCols = blockSize == 1 ? Math.min(cols, 128) : blockSize * Math.min(cols / blockSize, 3);
        WeightMatrix head = of(name, type, new long[] {warmCols, 1}, data.asSlice(0, type.byteSize(warmCols)), width);
        // sixteen rows (or eight), one token and four, for formats whose drivers run row groups (Q4_0, Q4_1 and Q4_K
        // of 8k rows, Q8_0 and Q6_K of 16k)
        int groupRows = rows >= RowGroupLayout.MAX_GROUP_ROWS ? RowGroupLayout.MAX_GROUP_ROWS : 8;
        WeightMatrix group = rows >= 8
                ? of(name, type, new long[] {warmCols, groupRows},
                        data.asSlice(0, groupRows * type.byteSize(warmCols)), width)
                : null;
        float[] x = new float[4 * warmCols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.37);
        }
        // each input in every form the kernels below read, as a matmul would prepare it
        QuantizedInput in = new QuantizedInput(activationFormat());
        in.quantize(x, 0, 4, warmCols);
        head.prepareInput(in);
        QuantizedInput single = new QuantizedInput(activationFormat());
        single.quantize(x, 0, 1, warmCols);
        if (group != null) {
            group.prepareInput(in);
            group.prepareInput(single);
        }
        float[] groupOut = new float[groupRows];
        float[] groupTileOut = new float[4 * groupRows];
        float[] out = new float[4];
        // Counting calls is not enough: C2 compiles on a background thread, which may lag far behind on a busy
        // machine. Keep calling until the kernels run at compiled speed (COMPILED_NANOS_PER_PRODUCT: well under a
        // nanosecond per weight-token product compiled, several before), or give up after a time limit.
        long deadline = System.nanoTime() + maxMillis * 1_000_000L;
        // per round: the head row against five tokens (one and four), and the group's rows against the same five
        long productsPerRound = 5L * warmCols * (1 + (group != null ? groupRows : 0));
        long calls = 0;
        while (true) {
            long start = System.nanoTime();
            for (int i = 0; i < WARM_UP_BATCH; i++) {
                out[i & 3] += head.simdDot(0, in, i & 3);
                head.simdDot4(0, in, 0, out, 0);
                if (group != null) {
                    group.simdRows(single, 0, groupRows, groupOut, 0);
                    group.simdRows(in, 0, groupRows, groupTileOut, 0);
                }
            }
            long end = System.nanoTime();
            calls += WARM_UP_BATCH;
            boolean fast = (end - start) / WARM_UP_BATCH < COMPILED_NANOS_PER_PRODUCT * productsPerRound;
            if ((fast && calls >= WARM_UP_CALLS) || end > deadline) {
                return;
            }
        }
    }

    /** The dequantised row {@code r}, as ggml's {@code dequantize_row_*} produces it (embedding lookup). */
    public abstract void row(int r, float[] dst, int dstOffset);

    /**
     * The scalar reference for one row: converts {@code x} to the activation format and runs the plain scalar kernel.
     * Allocates; for tests and diagnostics, not the hot path.
     */
    public final float dotScalar(int r, float[] x, int xOffset) {
        QuantizedInput in = new QuantizedInput(activationFormat());
        in.quantize(x, xOffset, 1, cols);
        return scalarDot(r, in, 0);
    }

    /** Scalar kernel: row {@code r} against token {@code token} of {@code in}. */
    abstract float scalarDot(int r, QuantizedInput in, int token);

    /**
     * SIMD driver: rows {@code [rowFrom, rowTo)} for every token; out is token-major. Prompts of the formats that
     * unpack a block of rows once ({@link LanePrompt.Rows}) run {@link LanePrompt} at 256/512 bits. Otherwise rows go
     * in blocks so that a block's weights stay in L2 while groups of four tokens (which stay in L1) sweep over them;
     * each group runs the format's register-tiled kernel, which unpacks a weight block once for all four tokens.
     * Every (row, token) result is the single-token dot's bit for bit, as in llama.cpp's prompt kernels, which is why
     * prompts are not run as a float GEMM on dequantised weights (that would round each product once more).
     */
    void simdRows(QuantizedInput in, int rowFrom, int rowTo, float[] out, int outOffset) {
        int tokens = in.tokens();
        if (this instanceof LanePrompt.Rows lanes && (width == VectorWidth.W256 || width == VectorWidth.W512)
                && tokens >= LanePrompt.MIN_TOKENS) {
            LanePrompt.rows(this, lanes, in, rowFrom, rowTo, out, outOffset);
            return;
        }
        for (int blockStart = rowFrom; blockStart < rowTo; blockStart += ROW_BLOCK) {
            int blockEnd = Math.min(rowTo, blockStart + ROW_BLOCK);
            int t = 0;
            for (; t + 4 <= tokens; t += 4) {
                for (int r = blockStart; r < blockEnd; ) {
                    r += simdDot4Rows(r, blockEnd, in, t, out, outOffset + t * rows + r);
                }
            }
            for (; t < tokens; t++) {
                for (int r = blockStart; r < blockEnd; r++) {
                    out[outOffset + t * rows + r] = simdDot(r, in, t);
                }
            }
        }
    }

    /** SIMD kernel: row {@code r} against token {@code token}. */
    abstract float simdDot(int r, QuantizedInput in, int token);

    /**
     * Whether the SIMD kernels read {@link QuantizedInput#permuted} for a call of {@code tokens} tokens (the legacy
     * 4/5-bit formats always, Q8_0 only in its 4-token prompt tile), so that it is prepared only when read.
     */
    boolean readsPermutedInput(int tokens) {
        return false;
    }

    /**
     * Whether the SIMD kernels read {@link QuantizedInput#blockSums} (the 8-row Q4_0 kernel, the Q4_K and Q5_K min
     * terms).
     */
    boolean readsBlockSums() {
        return false;
    }

    /**
     * Whether this matrix's kernels read {@link QuantizedInput#q4kSpread} and {@link QuantizedInput#q4kMinSums} for
     * an input of {@code tokens} tokens (the Q4_K row groups).
     */
    boolean readsQ4KGroups(int tokens) {
        return false;
    }

    /** Whether this matrix's kernels read {@link QuantizedInput#q4Pairs} (the 512-bit Q4_0 row groups). */
    boolean readsQ4Pairs() {
        return false;
    }

    /** Whether this matrix's kernels read {@link QuantizedInput#q8Pairs} (the 512-bit Q8_0 row groups). */
    boolean readsQ8Pairs() {
        return false;
    }

    /** Whether this matrix's kernels read {@link QuantizedInput#q6kPairs} (the 512-bit Q6_K row groups). */
    boolean readsQ6KPairs() {
        return false;
    }

    /**
     * SIMD kernel for tokens {@code token .. token+3} against row {@code r}; writes {@code out[outIndex + k*rows]}
     * for token {@code token + k}. Formats override this with a tile that loads each weight block once.
     */
    void simdDot4(int r, QuantizedInput in, int token, float[] out, int outIndex) {
        for (int k = 0; k < 4; k++) {
            out[outIndex + k * rows] = simdDot(r, in, token + k);
        }
    }

    /**
     * The 4-token tile from row {@code r} on, for rows before {@code rowEnd}: returns how many rows it wrote (row
     * {@code r + i} to {@code out[outIndex + i + k*rows]}). One row ({@link #simdDot4}) unless a format has a tile of
     * several rows that shares each token's input between them.
     */
    int simdDot4Rows(int r, int rowEnd, QuantizedInput in, int token, float[] out, int outIndex) {
        simdDot4(r, in, token, out, outIndex);
        return 1;
    }

    /**
     * Whether llama.cpp b4916 runs a product with {@code tokens} input columns through llamafile's tinyBLAS rather
     * than one {@code ggml_vec_dot_*} per row and token; it matters for the float formats (F32, F16, BF16), whose two
     * kernels sum in different orders. {@code llamafile_sgemm} declines single-token products ("only enable sgemm
     * for prompt processing") and {@code tinyBLAS::matmul} declines shapes its tiles do not cover: rows not a
     * multiple of 4 (its RM) or columns not a multiple of 8 (its KN), in which case ggml falls back to vec_dot.
     */
    final boolean tinyBlasOrder(int tokens) {
        return tokens >= 2 && rows % 4 == 0 && cols % 8 == 0;
    }

    /** Byte offset of row {@code r} in {@link #data}. */
    final long rowOffset(int r) {
        return r * rowBytes;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + name + ", " + rows + "x" + cols + ", " + width + "]";
    }

    /** Per-thread scratch: one input per activation format, and the reusable parallel task (no per-call lambda). */
    private static final class CallScratch implements Parallel.RangeTask {
        private final QuantizedInput[] inputs = new QuantizedInput[ActivationFormat.values().length];
        private WeightMatrix matrix;
        private QuantizedInput input;
        private float[] out;
        private int outOffset;

        QuantizedInput input(ActivationFormat format) {
            QuantizedInput in = inputs[format.ordinal()];
            if (in == null) {
                in = new QuantizedInput(format);
                inputs[format.ordinal()] = in;
            }
            return in;
        }

        void prepare(WeightMatrix m, QuantizedInput in, float[] o, int offset) {
            matrix = m;
            input = in;
            out = o;
            outOffset = offset;
        }

        void clear() {
            matrix = null;
            input = null;
            out = null;
        }

        @Override
        public void run(int from, int to) {
            matrix.computeRows(input, from, to, out, outOffset);
        }
    }

    /**
     * The parallel task of {@link #matmulAll}: the matrices' rows numbered one after another, each chunk split at
     * matrix boundaries and handed to each matrix's own row driver.
     */
    private static final class GroupCall implements Parallel.RangeTask {
        private WeightMatrix[] matrices;
        private float[][] outs;
        private QuantizedInput input;

        void prepare(QuantizedInput in, WeightMatrix[] ms, float[][] o) {
            input = in;
            matrices = ms;
            outs = o;
        }

        void clear() {
            input = null;
            matrices = null;
            outs = null;
        }

        @Override
        public void run(int from, int to) {
            int start = 0;
            for (int i = 0; i < matrices.length && start < to; i++) {
                WeightMatrix m = matrices[i];
                int lo = Math.max(from, start);
                int hi = Math.min(to, start + m.rows);
                if (lo < hi) {
                    m.computeRows(input, lo - start, hi - start, outs[i], 0);
                }
                start += m.rows;
            }
        }
    }
}
