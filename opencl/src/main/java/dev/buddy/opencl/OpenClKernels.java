package dev.buddy.opencl;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import dev.buddy.gguf.GgmlType;

/**
 * Buddy's OpenCL kernels, built once per context from the {@code .cl} resources, with typed launchers. Every launcher
 * only enqueues: results are visible to a later read ({@link ClContext#read}), which waits for the queue. Not
 * thread-safe (kernel arguments are per kernel object).
 */
public final class OpenClKernels implements AutoCloseable {
    /** Weight formats with matrix-vector, matrix-matrix and row-lookup kernels. */
    public static final Set<GgmlType> WEIGHT_TYPES = Collections.unmodifiableSet(EnumSet.of(
            GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q4_K, GgmlType.Q6_K));

    /** Output dimensions one attention work-item may own (MAX_DPT in ops.cl): headDim <= work-group * this. */
    private static final int MAX_DIMS_PER_ITEM = 8;
    private static final String[] SOURCES = {"common.cl", "quant.cl", "input.cl", "ops.cl"};
    /** Weight formats whose input is quantised; each has a matvec_q_ kernel. */
    private static final Set<GgmlType> QUANTISED_INPUT = Collections.unmodifiableSet(EnumSet.of(
            GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q4_K, GgmlType.Q6_K));

    private final ClContext context;
    private final ClProgram program;
    private final Map<GgmlType, ClKernel> matvec = new EnumMap<>(GgmlType.class);
    private final Map<GgmlType, ClKernel> matmul = new EnumMap<>(GgmlType.class);
    private final Map<GgmlType, ClKernel> getRows = new EnumMap<>(GgmlType.class);
    private final Map<GgmlType, ClKernel> matvecQuantised = new EnumMap<>(GgmlType.class);
    private final Map<GgmlType, ClKernel> matmulQuantised = new EnumMap<>(GgmlType.class);
    private final ClKernel quantizeQ8;
    private final ClKernel quantizeQ8K;
    private final ClKernel roundHalf;
    private final ClKernel rmsNorm;
    private final ClKernel ropeKv;
    private final ClKernel attention;
    private final ClKernel attentionHalf;
    private final ClKernel swiglu;
    private final ClKernel add;
    private final ClKernel argmax;
    /** Bound to optional buffer arguments that a launch does not use (OpenCL 1.2 has no portable null buffer). */
    private final ClBuffer placeholder;
    private final int tile;
    private final PrefillTile prefillTile;
    /** Rows per work-group of matvec_q (the DR the program was built with); the reduce group must hold as many. */
    private final int decodeRows;
    private final int reduceGroup;
    private final int attentionGroup;
    private final int elementGroup;

    private OpenClKernels(ClContext context, int tile, PrefillTile prefillTile, DecodeRows decode) {
        this.context = context;
        this.tile = tile;
        this.prefillTile = prefillTile;
        this.decodeRows = decode.perGroup();
        this.placeholder = context.allocateZeroed(16);
        // Correctly rounded division and sqrt: the input quantisers divide by amax exactly as the CPU does, and GPU
        // compilers otherwise may use approximate reciprocals. No fast-math options: attention masks with -INFINITY
        // and the reference comparisons assume IEEE behaviour.
        // The option is only valid where the device supports it; elsewhere a rare input scale may round one ulp
        // differently from the CPU's.
        this.program = context.build("buddy kernels", source(), "-cl-std=CL1.2"
                + (context.device().correctlyRoundedDivideSqrt() ? " -cl-fp32-correctly-rounded-divide-sqrt" : "")
                + " -DTS=" + tile + " -DTK=32 -DMAX_DPT=" + MAX_DIMS_PER_ITEM
                + " -DRT=" + prefillTile.rows() + " -DTT=" + Math.max(1, prefillTile.tokens())
                + " -DDR=" + decodeRows);
        for (GgmlType t : WEIGHT_TYPES) {
            String suffix = t.name();
            matvec.put(t, program.kernel("matvec_" + suffix));
            matmul.put(t, program.kernel("matmul_" + suffix));
            getRows.put(t, program.kernel("get_rows_" + suffix));
        }
        for (GgmlType t : QUANTISED_INPUT) {
            matvecQuantised.put(t, program.kernel("matvec_q_" + t.name()));
            matmulQuantised.put(t, program.kernel("matmul_q_" + t.name()));
        }
        quantizeQ8 = program.kernel("quantize_q8");
        quantizeQ8K = program.kernel("quantize_q8_k");
        roundHalf = program.kernel("round_half");
        rmsNorm = program.kernel("rms_norm");
        ropeKv = program.kernel("rope_kv");
        attention = program.kernel("attention");
        attentionHalf = program.kernel("attention_f16");
        swiglu = program.kernel("swiglu");
        add = program.kernel("add");
        argmax = program.kernel("argmax");
        // GPUs want wide groups to hide latency; a CPU device runs a group on one thread, where narrow is cheaper.
        int preferred = context.device().isGpu() ? 256 : 64;
        long limit = Long.MAX_VALUE;
        for (ClKernel k : matvec.values()) {
            limit = Math.min(limit, k.maxWorkGroupSize());
        }
        for (ClKernel k : matvecQuantised.values()) {
            limit = Math.min(limit, k.maxWorkGroupSize());
        }
        limit = Math.min(limit, rmsNorm.maxWorkGroupSize());
        limit = Math.min(limit, argmax.maxWorkGroupSize());
        this.reduceGroup = floorPow2(Math.min(preferred, limit));
        if (reduceGroup < decodeRows) {
            throw new OpenClException("clGetKernelWorkGroupInfo", -54, "matvec_q needs " + decodeRows
                    + " work-items per group for " + decodeRows + " rows on " + context.device().name());
        }
        this.attentionGroup = floorPow2(Math.min(context.device().isGpu() ? 128 : 64,
                Math.min(attention.maxWorkGroupSize(), attentionHalf.maxWorkGroupSize())));
        // Fixed group shapes: PoCL compiles a work-group function per distinct local size, so letting the driver pick
        // one per launch shape would recompile as prompt lengths vary.
        long elementLimit = Math.min(Math.min(swiglu.maxWorkGroupSize(), add.maxWorkGroupSize()),
                Math.min(ropeKv.maxWorkGroupSize(), getRows.get(GgmlType.F32).maxWorkGroupSize()));
        elementLimit = Math.min(elementLimit, Math.min(roundHalf.maxWorkGroupSize(),
                Math.min(quantizeQ8.maxWorkGroupSize(), quantizeQ8K.maxWorkGroupSize())));
        for (ClKernel k : matmulQuantised.values()) {
            elementLimit = Math.min(elementLimit, k.maxWorkGroupSize());
        }
        this.elementGroup = floorPow2(Math.min(64, elementLimit));
        if (matmul.values().stream().anyMatch(k -> k.maxWorkGroupSize() < (long) tile * tile)) {
            throw new OpenClException("clGetKernelWorkGroupInfo", -54,
                    "matmul needs " + tile * tile + " work-items per group on " + context.device().name());
        }
    }

    /**
     * Builds the kernels for {@code context}'s device.
     *
     * @throws OpenClBuildException with the compiler log if the device's compiler rejects them
     */
    public static OpenClKernels build(ClContext context) {
        return build(context, PrefillTile.fromSystemProperties(), DecodeRows.forDevice(context.device()));
    }

    /** {@link #build(ClContext)} with chosen shapes for the kernels with quantised input. */
    public static OpenClKernels build(ClContext context, PrefillTile prefillTile, DecodeRows decodeRows) {
        // 16x16 matmul tiles need 256 work-items per group; some small devices allow fewer.
        int tile = context.device().maxWorkGroupSize() >= 256 ? 16 : 8;
        return new OpenClKernels(context, tile, prefillTile, decodeRows);
    }

    /** The concatenated kernel sources, in dependency order. */
    public static String source() {
        StringBuilder all = new StringBuilder();
        for (String name : SOURCES) {
            try (InputStream in = OpenClKernels.class.getResourceAsStream("kernels/" + name)) {
                if (in == null) {
                    throw new IllegalStateException("kernel resource missing from the jar: kernels/" + name);
                }
                all.append("// ---- ").append(name).append(" ----\n")
                        .append(new String(in.readAllBytes(), StandardCharsets.UTF_8)).append('\n');
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return all.toString();
    }

    public ClContext context() {
        return context;
    }

    /** Work-group size of the reduction kernels (matvec, RMSNorm, argmax). */
    public int reduceGroupSize() {
        return reduceGroup;
    }

    /**
     * Uploads a weight matrix exactly as GGUF stores it: {@code dims[0]} is the row length (ne0), {@code dims[1]} the
     * number of rows (1 when absent).
     *
     * @throws OpenClUnsupportedTypeException when {@code type} has no kernel
     */
    public DeviceMatrix upload(String name, GgmlType type, long[] dims, MemorySegment data) {
        if (!WEIGHT_TYPES.contains(type)) {
            throw new OpenClUnsupportedTypeException(name, type);
        }
        long cols = dims[0];
        long rows = 1;
        for (int i = 1; i < dims.length; i++) {
            rows *= dims[i];
        }
        if (cols % type.blockSize() != 0 || (type.blockSize() > 1 && cols % 16 != 0)) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + cols + " is not a whole number of "
                    + type + " blocks");
        }
        if (cols > Integer.MAX_VALUE || rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + name + " is too large: " + rows + " x " + cols);
        }
        long expected = type.byteSize(cols) * rows;
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("tensor " + name + " holds " + data.byteSize() + " bytes, expected "
                    + expected + " for " + type + " [" + rows + " x " + cols + "]");
        }
        return new DeviceMatrix(name, type, (int) rows, (int) cols, context.upload(data));
    }

    /**
     * {@code out[outOffset + r] = w_r · x[xOffset ..]} for every row r, or {@code +=} when {@code accumulate} (a
     * residual add fused into the projection), with float input. Offsets are in floats.
     */
    public void matvec(DeviceMatrix w, ClBuffer x, int xOffset, ClBuffer out, int outOffset, boolean accumulate) {
        matvec(w, x, xOffset, 1, out, outOffset, w.rows(), accumulate);
    }

    /**
     * The float-input product for n tokens: token t reads {@code x[xOffset + t*cols ..]} and writes
     * {@code out[outOffset + t*outStride + r]}. Weights are re-read per token (use {@link #matmul} for long prompts).
     */
    public void matvec(DeviceMatrix w, ClBuffer x, int xOffset, int n, ClBuffer out, int outOffset, int outStride,
            boolean accumulate) {
        ClKernel k = matvec.get(w.type());
        k.arg(0, w.buffer()).arg(1, w.rowBytes()).arg(2, x).arg(3, xOffset).arg(4, out).arg(5, outOffset)
                .arg(6, outStride).arg(7, w.cols()).arg(8, accumulate ? 1 : 0).argLocal(9, 4L * reduceGroup);
        context.run(k, (long) w.rows() * reduceGroup, n, reduceGroup, 1);
    }

    /** Scratch for {@link #prepareInput} holding up to {@code maxElements} activations (tokens × columns). */
    public DeviceInput allocateInput(int maxElements) {
        return new DeviceInput(context, maxElements);
    }

    /**
     * Converts n tokens of {@code cols} floats at {@code x[xOffset ..]} to {@code format} in {@code into}, as the CPU
     * backend converts a matrix's input (for {@link InputFormat#FLOAT} the buffer is only referenced: keep it unchanged
     * while the input is in use).
     */
    public void prepareInput(InputFormat format, ClBuffer x, int xOffset, int n, int cols, DeviceInput into) {
        long elements = (long) n * cols;
        if (format != InputFormat.FLOAT && elements > into.maxElements) {
            throw new IllegalArgumentException(n + " x " + cols + " activations exceed the input scratch of "
                    + into.maxElements);
        }
        if (cols % format.blockSize() != 0) {
            throw new IllegalArgumentException(format + " input needs a multiple of " + format.blockSize()
                    + " columns, got " + cols);
        }
        into.format = format;
        into.tokens = n;
        into.cols = cols;
        into.source = x;
        into.sourceOffset = xOffset;
        int total = (int) elements;
        switch (format) {
            case FLOAT -> { }
            case HALF -> {
                roundHalf.arg(0, x).arg(1, xOffset).arg(2, into.halves).arg(3, total);
                context.run(roundHalf, roundUp(total, elementGroup), elementGroup);
            }
            case Q8_0, Q8_1 -> {
                int blocks = total / 32;
                quantizeQ8.arg(0, x).arg(1, xOffset).arg(2, into.quants).arg(3, into.scales).arg(4, into.sums)
                        .arg(5, blocks).arg(6, format == InputFormat.Q8_1 ? 1 : 0);
                context.run(quantizeQ8, roundUp(blocks, elementGroup), elementGroup);
            }
            case Q8_K -> {
                int blocks = total / 256;
                quantizeQ8K.arg(0, x).arg(1, xOffset).arg(2, into.quants).arg(3, into.scales).arg(4, into.blockSums)
                        .arg(5, blocks);
                context.run(quantizeQ8K, roundUp(blocks, elementGroup), elementGroup);
            }
        }
    }

    /**
     * The product with input converted by {@link #prepareInput} to the weight's {@link InputFormat}, for all of its
     * tokens: token t writes {@code out[outOffset + t*outStride + r]} (+= when {@code accumulate}).
     */
    public void matvec(DeviceMatrix w, DeviceInput in, ClBuffer out, int outOffset, int outStride, boolean accumulate) {
        InputFormat need = InputFormat.forWeight(w.type());
        if (in.format != need || in.cols != w.cols()) {
            throw new IllegalArgumentException(w + " needs " + need + " input of " + w.cols() + " columns, got "
                    + in.format + " of " + in.cols);
        }
        switch (need) {
            case FLOAT -> matvec(w, in.source, in.sourceOffset, in.tokens, out, outOffset, outStride, accumulate);
            case HALF -> matvec(w, in.halves, 0, in.tokens, out, outOffset, outStride, accumulate);
            default -> {
                if (prefillTile.covers(in.tokens)) {
                    ClKernel k = matmulQuantised.get(w.type());
                    k.arg(0, w.buffer()).arg(1, w.rowBytes()).arg(2, in.quants).arg(3, in.scales).arg(4, in.sums)
                            .arg(5, in.blockSums).arg(6, out).arg(7, outOffset).arg(8, outStride).arg(9, w.rows())
                            .arg(10, w.cols()).arg(11, in.tokens).arg(12, accumulate ? 1 : 0);
                    long items = (w.rows() + prefillTile.rows() - 1) / prefillTile.rows();
                    long tokenItems = (in.tokens + prefillTile.tokens() - 1) / prefillTile.tokens();
                    context.run(k, roundUp(items, elementGroup), tokenItems, elementGroup, 1);
                    return;
                }
                ClKernel k = matvecQuantised.get(w.type());
                k.arg(0, w.buffer()).arg(1, w.rowBytes()).arg(2, in.quants).arg(3, in.scales).arg(4, in.sums)
                        .arg(5, in.blockSums).arg(6, out).arg(7, outOffset).arg(8, outStride).arg(9, w.rows())
                        .arg(10, w.cols()).arg(11, accumulate ? 1 : 0).argLocal(12, 4L * reduceGroup);
                long groups = (w.rows() + decodeRows - 1) / decodeRows;
                context.run(k, groups * reduceGroup, in.tokens, reduceGroup, 1);
            }
        }
    }

    /**
     * {@code out[t*rows + r] = w_r · x[t*cols ..]} for n tokens (prefill), or {@code +=} when {@code accumulate}.
     */
    public void matmul(DeviceMatrix w, ClBuffer x, int n, ClBuffer out, boolean accumulate) {
        ClKernel k = matmul.get(w.type());
        k.arg(0, w.buffer()).arg(1, w.rowBytes()).arg(2, x).arg(3, out).arg(4, w.rows()).arg(5, w.cols()).arg(6, n)
                .arg(7, accumulate ? 1 : 0);
        context.run(k, roundUp(w.rows(), tile), roundUp(n, tile), tile, tile);
    }

    /** {@code out[t*cols ..] = row tokens[t] of w}, dequantised (the embedding lookup), for n tokens. */
    public void getRows(DeviceMatrix w, ClBuffer tokens, int n, ClBuffer out) {
        ClKernel k = getRows.get(w.type());
        k.arg(0, w.buffer()).arg(1, w.rowBytes()).arg(2, tokens).arg(3, out).arg(4, w.cols());
        context.run(k, roundUp(w.cols(), elementGroup), n, elementGroup, 1);
    }

    /** RMSNorm of n rows of {@code dim}: {@code out = x / sqrt(mean(x^2) + eps) * weight}; out may be x. */
    public void rmsNorm(ClBuffer x, ClBuffer weight, ClBuffer out, int dim, int n, float eps) {
        rmsNorm.arg(0, x).arg(1, weight).arg(2, out).arg(3, dim).arg(4, eps).argLocal(5, 4L * reduceGroup);
        context.run(rmsNorm, (long) n * reduceGroup, reduceGroup);
    }

    /**
     * Rotates n tokens' queries (in place) and keys, and writes keys and values to the caches at positions
     * {@code startPos..}. {@code ropeTable} holds (cos, sin) for every position and pair, {@code ropeDims/2} pairs per
     * position; {@code cacheOffset} (in floats) is where this layer's cache starts.
     */
    public void ropeKv(AttentionShape s, ClBuffer q, ClBuffer k, ClBuffer v, ClBuffer kCache, ClBuffer vCache,
            ClBuffer ropeTable, int startPos, int n, long cacheOffset) {
        ropeKv(s, q, k, v, kCache, vCache, ropeTable, startPos, n, cacheOffset, false);
    }

    /**
     * {@link #ropeKv} into caches of halves when {@code halfCache} (offsets then count halves), rounded to nearest
     * even as the CPU backend's F16 cache.
     */
    public void ropeKv(AttentionShape s, ClBuffer q, ClBuffer k, ClBuffer v, ClBuffer kCache, ClBuffer vCache,
            ClBuffer ropeTable, int startPos, int n, long cacheOffset, boolean halfCache) {
        rope(s, q, s.heads(), k, v, kCache, vCache, ropeTable, startPos, n, cacheOffset, halfCache);
    }

    /** {@link #ropeKv} without queries: rotates keys and stores keys and values (a skipped block's K/V). */
    public void storeKv(AttentionShape s, ClBuffer k, ClBuffer v, ClBuffer kCache, ClBuffer vCache,
            ClBuffer ropeTable, int startPos, int n, long cacheOffset) {
        storeKv(s, k, v, kCache, vCache, ropeTable, startPos, n, cacheOffset, false);
    }

    /** {@link #storeKv} into caches of halves when {@code halfCache}. */
    public void storeKv(AttentionShape s, ClBuffer k, ClBuffer v, ClBuffer kCache, ClBuffer vCache,
            ClBuffer ropeTable, int startPos, int n, long cacheOffset, boolean halfCache) {
        rope(s, k, 0, k, v, kCache, vCache, ropeTable, startPos, n, cacheOffset, halfCache);
    }

    private void rope(AttentionShape s, ClBuffer q, int qHeads, ClBuffer k, ClBuffer v, ClBuffer kCache,
            ClBuffer vCache, ClBuffer ropeTable, int startPos, int n, long cacheOffset, boolean halfCache) {
        ropeKv.arg(0, q).arg(1, k).arg(2, v).arg(3, kCache).arg(4, vCache).arg(5, ropeTable).arg(6, startPos)
                .arg(7, s.heads()).arg(8, qHeads).arg(9, s.kvHeads()).arg(10, s.headDim()).arg(11, s.ropeDims())
                .arg(12, s.neox() ? 1 : 0).arg(13, cacheOffset).arg(14, halfCache ? 1 : 0);
        context.run(ropeKv, roundUp((long) (qHeads + s.kvHeads()) * (s.headDim() / 2), elementGroup), n,
                elementGroup, 1);
    }

    /**
     * Causal attention of n queries at positions {@code startPos..} over the cache, scaled by 1/sqrt(headDim); writes
     * {@code heads * headDim} floats per token to {@code out}.
     */
    public void attention(AttentionShape s, ClBuffer q, ClBuffer kCache, ClBuffer vCache, ClBuffer out, int startPos,
            int n, long cacheOffset) {
        attention(s, q, kCache, vCache, null, out, startPos, n, cacheOffset);
    }

    /**
     * {@link #attention} leaving out positions p whose {@code valid[p]} (an int per position of this layer) is 0;
     * {@code valid} null means every position counts.
     */
    public void attention(AttentionShape s, ClBuffer q, ClBuffer kCache, ClBuffer vCache, ClBuffer valid,
            ClBuffer out, int startPos, int n, long cacheOffset) {
        attention(s, q, kCache, vCache, valid, out, startPos, n, cacheOffset, false);
    }

    /**
     * {@link #attention} over caches of halves when {@code halfCache}: the query and the softmax weights are then
     * rounded to half, as the CPU backend's F16 cache computes attention.
     */
    public void attention(AttentionShape s, ClBuffer q, ClBuffer kCache, ClBuffer vCache, ClBuffer valid,
            ClBuffer out, int startPos, int n, long cacheOffset, boolean halfCache) {
        ClKernel attention = halfCache ? attentionHalf : this.attention;
        if (s.headDim() > attentionGroup * MAX_DIMS_PER_ITEM) {
            throw new IllegalArgumentException("head dimension " + s.headDim() + " exceeds this device's attention limit "
                    + attentionGroup * MAX_DIMS_PER_ITEM);
        }
        attention.arg(0, q).arg(1, kCache).arg(2, vCache).arg(3, out).arg(4, startPos).arg(5, s.heads())
                .arg(6, s.kvHeads()).arg(7, s.headDim()).arg(8, (float) (1.0 / Math.sqrt(s.headDim())))
                .arg(9, cacheOffset).arg(10, valid != null ? valid : placeholder).arg(11, valid != null ? 1 : 0)
                .argLocal(12, 4L * attentionGroup).argLocal(13, 4L * attentionGroup);
        context.run(attention, (long) s.heads() * attentionGroup, n, attentionGroup, 1);
    }

    /** {@code gate[i] = silu(gate[i]) * up[i]} for i < n. */
    public void swiglu(ClBuffer gate, ClBuffer up, int n) {
        swiglu.arg(0, gate).arg(1, up).arg(2, n);
        context.run(swiglu, roundUp(n, elementGroup), elementGroup);
    }

    /** {@code x[i] += y[i % yLen]} for i < n: a residual add, or a bias added to each of n / yLen rows. */
    public void add(ClBuffer x, ClBuffer y, int yLen, int n) {
        add.arg(0, x).arg(1, y).arg(2, yLen).arg(3, n);
        context.run(add, roundUp(n, elementGroup), elementGroup);
    }

    /** Writes to {@code result[0]} the index of the largest of x[0..n) (the lowest index on ties). */
    public void argmax(ClBuffer x, int n, ClBuffer result) {
        argmax.arg(0, x).arg(1, n).arg(2, result).argLocal(3, 4L * reduceGroup).argLocal(4, 4L * reduceGroup);
        context.run(argmax, reduceGroup, reduceGroup);
    }

    /** Releases the program and its kernels (buffers made by {@link #upload} stay with the context). */
    @Override
    public void close() {
        for (Map<GgmlType, ClKernel> m : java.util.List.of(matvec, matmul, getRows, matvecQuantised, matmulQuantised)) {
            m.values().forEach(ClKernel::close);
        }
        for (ClKernel k : new ClKernel[] {quantizeQ8, quantizeQ8K, roundHalf, rmsNorm, ropeKv, attention, attentionHalf,
            swiglu, add, argmax}) {
            k.close();
        }
        program.close();
        placeholder.close();
    }

    static int floorPow2(long n) {
        if (n < 1) {
            return 1;
        }
        return Integer.highestOneBit((int) Math.min(n, 1 << 30));
    }

    private static long roundUp(long n, long multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "OpenClKernels[%s, reduce group %d, attention group %d, tile %d, %s, decode rows %d per group]",
                context.device().name(), reduceGroup, attentionGroup, tile, prefillTile, decodeRows);
    }
}
