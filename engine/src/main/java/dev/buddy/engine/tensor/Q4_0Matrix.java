package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q4_0 weights: {@code block_q4_0}: fp16 d, qs[16] (element j in the low nibble of qs[j], element j+16 in the high
 * nibble); 18 bytes per 32 elements, dequantised as {@code (q - 8) * d}. Products follow {@code
 * ggml_vec_dot_q4_0_q8_0}: the input is quantised to Q8_0, each block is an exact integer dot of the unpacked quants
 * with the input quants, scaled by {@code d_w * d_x} and summed in float.
 *
 * <p>Kernels: {@link LegacyQuantKernels} (scalar reference, float-lane SIMD at 128/256 bits, the 256-bit kernels at
 * 512), in ggml's AVX2 order bit for bit (the vec_dot order, or for 8k rows the repacked gemv/gemm order, see
 * {@link #wholeBlockSums}), at every width and for any number of tokens; why float lanes, and what they cost
 * against the earlier (inexact) kernels, is measured there. Matrices of 8k rows run eight rows at a time through
 * {@link Q4_0RowGroups} at 256 bits and up, one accumulator lane per row as in ggml's repacked gemv/gemm, single
 * tokens and prompts alike (prompts in multi-token tiles that unpack each weight block once per tile). On CPUs with
 * 512-bit vectors, matrices of 16k rows run sixteen rows at a time instead ({@link Q4_0RowGroups#pack16},
 * {@link Q4_0RowGroups#dot16}, {@link Q4_0RowGroups#dotTokens16}), in the same order and so with the same bits.
 */
final class Q4_0Matrix extends WeightMatrix implements LanePrompt.Rows, RowGroupLayout.TileKernel {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 18;

    /**
     * llama.cpp b4916 (x86 with AVX2) repacks a Q4_0 matrix whose row count is a multiple of 8 into
     * {@code block_q4_0x8} and multiplies it with {@code ggml_gemv_q4_0_8x8_q8_0} / {@code ggml_gemm_q4_0_8x8_q8_0}:
     * one accumulator per (row, token) fed with whole-block integer sums. Other row counts go through
     * {@code ggml_vec_dot_q4_0_q8_0} (tinyBLAS for batches, same order). Measured on the synthetic llama model: with
     * the vec_dot order every row-multiple-of-8 matrix left logits 1e-6 apart; with this split they are identical.
     */
    private final boolean wholeBlockSums;

    /**
     * The weights in {@link Q4_0RowGroups}' row-group layout, which its kernels read; null when this matrix does not
     * run through them. The scalar and float-lane kernels read {@link #data}; {@link #row} reads the groups.
     */
    private final MemorySegment groups;

    /**
     * Whether {@link #groups} are the sixteen-row groups of the 512-bit kernels ({@link Q4_0RowGroups#pack16}):
     * decided once, at load, on a CPU with 512-bit vectors, for matrices of 16k rows whose scales are all finite.
     */
    private final boolean wideGroups;

    Q4_0Matrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q4_0, rows, cols, data, width);
        this.wholeBlockSums = rows % 8 == 0;
        // null (rows left to the float-lane kernels) when a scale is an infinity or a NaN: see Q4_0RowGroups.pack
        boolean sixteen = groupable() && width.native512() && rows % Q4_0RowGroups.ROWS16 == 0;
        this.groups = !groupable() ? null : sixteen ? Q4_0RowGroups.pack16(data, rows, cols / 32)
                : Q4_0RowGroups.pack(data, rows, cols / 32);
        this.wideGroups = sixteen && groups != null;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_0;
    }

    /** The two quants held by byte j of the block at {@code bo}: element j (low) and element j+16 (high). */
    private int lowQuant(long bo, int j) {
        return (data.get(BYTE, bo + 2 + j) & 0x0F) - 8;
    }

    private int highQuant(long bo, int j) {
        return ((data.get(BYTE, bo + 2 + j) >> 4) & 0x0F) - 8;
    }

    /**
     * {@code dequantize_row_q4_0}: {@code (q - 8) * d}; from the row groups where they exist, so that a row-wise
     * reader (embedding lookups of a tied table, router training's transposed products) does not bring the unloaded
     * original back into memory beside them.
     */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
        if (wideGroups) {
            long group = (long) (r - r % Q4_0RowGroups.ROWS16) * rowBytes;
            int l = r % Q4_0RowGroups.ROWS16;
            for (int b = 0; b < cols / 32; b++) {
                long gb = group + (long) b * Q4_0RowGroups.GROUP_BLOCK16;
                float d = Halfs.f16ToFloat(groups.get(HALF, gb + 2L * l));
                int o = dstOffset + b * 32;
                for (int j = 0; j < 16; j++) {
                    int q = groups.get(BYTE, gb + Q4_0RowGroups.quantAt16(l, j));
                    dst[o + j] = ((q & 0x0F) - 8) * d;
                    dst[o + j + 16] = (((q >> 4) & 0x0F) - 8) * d;
                }
            }
            return;
        }
        if (groups != null) {
            long group = (long) (r - r % RowGroupLayout.ROWS) * rowBytes;
            int k = r % RowGroupLayout.ROWS;
            for (int b = 0; b < cols / 32; b++) {
                long gb = group + (long) b * Q4_0RowGroups.GROUP_BLOCK;
                float d = Halfs.f16ToFloat(groups.get(HALF, gb + RowGroupLayout.fieldAt(0, k)));
                int o = dstOffset + b * 32;
                for (int j = 0; j < 16; j++) {
                    int q = groups.get(BYTE, gb + RowGroupLayout.quantAt(1, false, k, j));
                    dst[o + j] = ((q & 0x0F) - 8) * d;
                    dst[o + j + 16] = (((q >> 4) & 0x0F) - 8) * d;
                }
            }
            return;
        }
        long off = rowOffset(r);
        for (int b = 0; b < cols / 32; b++) {
            long bo = off + (long) b * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            int o = dstOffset + b * 32;
            for (int j = 0; j < 16; j++) {
                dst[o + j] = lowQuant(bo, j) * d;
                dst[o + j + 16] = highQuant(bo, j) * d;
            }
        }
    }

    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        return LegacyQuantKernels.scalarDot(LegacyQuantKernels.Layout.Q4_0, data, rowOffset(r), cols / 32, in, token,
                wholeBlockSums);
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        int blocks = cols / 32;
        return switch (width) {
            case W128 -> LegacyQuantKernels.V128.dot(LegacyQuantKernels.Layout.Q4_0, data, rowOffset(r), blocks,
                    in.permuted, token * cols, in.d, in.s, token * blocks, wholeBlockSums);
            case W256, W512 -> LegacyQuantKernels.V256.dot(LegacyQuantKernels.Layout.Q4_0, data, rowOffset(r), blocks,
                    in.permuted, token * cols, in.d, in.s, token * blocks, wholeBlockSums);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    @Override
    public void laneRow(int r, float[] dst, int at, float[] d, float[] m, int dAt) {
        LegacyQuantKernels.V256.laneWeights(LegacyQuantKernels.Layout.Q4_0, data, rowOffset(r), cols / 32, dst, at, d, m,
                dAt);
    }

    @Override
    public boolean laneMin() {
        return false;
    }

    /**
     * Only the float-lane kernels read the permuted input; matrices of 8k rows run every token count through the
     * integer row-group kernels at 256 bits and up (the 128-bit width keeps the float-lane ones).
     */
    @Override
    boolean readsPermutedInput(int tokens) {
        return !groupedRows();
    }

    @Override
    boolean readsBlockSums() {
        return wholeBlockSums;
    }

    /** Only the sixteen-row kernels read them. */
    @Override
    boolean readsQ4Pairs() {
        return wideGroups;
    }

    /** Whether ggml would repack this matrix (8k rows) and the width has row-group kernels (256 bits and up). */
    private boolean groupable() {
        return wholeBlockSums && (width == VectorWidth.W256 || width == VectorWidth.W512);
    }

    /** Whether {@link #simdRows} runs this matrix through {@link Q4_0RowGroups}: groupable, with finite scales. */
    private boolean groupedRows() {
        return groups != null;
    }

    /**
     * Tokens per prompt tile of {@link Q4_0RowGroups#dotTokens}. Measured on 8192x2048 with 64 tokens, one thread
     * (thread CPU time per matmul, best of ~20 calls, on a shared 2-core EPYC): 8 tokens 79 ms, 4 tokens 89 ms,
     * 2 tokens 118 ms; the 4-token float-lane tile it replaces took 218 ms.
     */
    static final int TILE_TOKENS = Q4_0RowGroups.MAX_TOKENS;
    /**
     * Rows per cache block of the prompt driver: a multiple of 8, so only a chunk's last group can be partial. 16,
     * 32 and 64 rows measured alike (within noise) on the shape above.
     */
    static final int TILE_ROW_BLOCK = 16;

    /** Per-thread scratch of the row-group kernels, so that neither decode nor prefill allocates per call. */
    private static final class GroupScratch {
        /** A tile's accumulators: a group's rows per token. */
        final float[] acc = new float[RowGroupLayout.ROWS * Q4_0RowGroups.MAX_TOKENS];
        /** Outputs of a group that overhangs the caller's row range, of which only some rows are copied out. */
        final float[] window = new float[RowGroupLayout.ROWS * Q4_0RowGroups.MAX_TOKENS];
    }

    private static final ThreadLocal<GroupScratch> GROUP_SCRATCH = ThreadLocal.withInitial(GroupScratch::new);

    /**
     * Matrices of 8k rows run eight rows at a time through {@link Q4_0RowGroups}, one accumulator lane per row as in
     * ggml's repacked gemv/gemm, whose per-row results are the single-row kernel's bits: single tokens (decode) with
     * {@link Q4_0RowGroups#dot8}, several tokens in tiles of up to {@link #TILE_TOKENS} tokens with
     * {@link Q4_0RowGroups#dotTokens}, row blocks of {@link #TILE_ROW_BLOCK} rows staying in cache while the
     * token tiles sweep over them. Groups are the packed copy's (rows 8g..8g+7); a range that starts or ends inside one
     * (parallel chunks split rows anywhere) computes that whole group and keeps only the rows it owns, so that no
     * call needs the float-lane kernels' permuted input. The sixteen-row groups of CPUs with 512-bit vectors run
     * through {@link RowGroupLayout#groupTiles} in the same way ({@link Q4_0RowGroups#dot16},
     * {@link Q4_0RowGroups#dotTokens16}).
     */
    @Override
    void simdRows(QuantizedInput in, int rowFrom, int rowTo, float[] out, int outOffset) {
        if (!groupedRows()) {
            if (groupable()) {
                // 8k rows left unpacked for a non-finite scale: ggml's repacked order one row and token at a time,
                // which LanePrompt's prompt tiles do not keep (no quantiser writes such a scale; speed is moot)
                for (int t = 0; t < in.tokens(); t++) {
                    for (int r = rowFrom; r < rowTo; r++) {
                        out[outOffset + t * rows + r] = simdDot(r, in, t);
                    }
                }
                return;
            }
            // rows not a multiple of 8 (ggml does not repack them): the float-lane kernels, prompts via LanePrompt
            super.simdRows(in, rowFrom, rowTo, out, outOffset);
            return;
        }
        if (wideGroups) {
            RowGroupLayout.groupTiles(this, in, rowFrom, rowTo, Q4_0RowGroups.ROWS16, Q4_0RowGroups.ROWS16 * rowBytes,
                    out, outOffset, rows);
            return;
        }
        int tokens = in.tokens();
        GroupScratch scratch = GROUP_SCRATCH.get();
        int blocks = cols / 32;
        int first = rowFrom / Q4_0RowGroups.ROWS;
        int end = (rowTo + Q4_0RowGroups.ROWS - 1) / Q4_0RowGroups.ROWS;
        if (tokens == 1) {
            for (int g = first; g < end; g++) {
                int r = g * Q4_0RowGroups.ROWS;
                long off = r * rowBytes;
                boolean whole = r >= rowFrom && r + Q4_0RowGroups.ROWS <= rowTo;
                float[] dst = whole ? out : scratch.window;
                int at = whole ? outOffset + r : 0;
                Q4_0RowGroups.dot8(groups, off, blocks, in.qs, 0, in.d, in.blockSums, 0, dst, at);
                if (!whole) {
                    int from = Math.max(r, rowFrom);
                    System.arraycopy(scratch.window, from - r, out, outOffset + from, Math.min(r + 8, rowTo) - from);
                }
            }
            return;
        }
        int groupsPerBlock = TILE_ROW_BLOCK / Q4_0RowGroups.ROWS;
        for (int blockStart = first; blockStart < end; blockStart += groupsPerBlock) {
            int blockEnd = Math.min(end, blockStart + groupsPerBlock);
            for (int t = 0; t < tokens; t += TILE_TOKENS) {
                int n = Math.min(TILE_TOKENS, tokens - t);
                for (int g = blockStart; g < blockEnd; g++) {
                    int r = g * Q4_0RowGroups.ROWS;
                    long off = r * rowBytes;
                    boolean whole = r >= rowFrom && r + Q4_0RowGroups.ROWS <= rowTo;
                    float[] dst = whole ? out : scratch.window;
                    int at = whole ? outOffset + t * rows + r : 0;
                    int stride = whole ? rows : Q4_0RowGroups.ROWS;
                    Q4_0RowGroups.dotTokens(groups, off, blocks, n, in.qs, t * cols, in.d, in.blockSums,
                            t * blocks, scratch.acc, dst, at, stride);
                    if (whole) {
                        continue;
                    }
                    int from = Math.max(r, rowFrom);
                    int to = Math.min(r + Q4_0RowGroups.ROWS, rowTo);
                    for (int k = 0; k < n; k++) {
                        System.arraycopy(scratch.window, k * Q4_0RowGroups.ROWS + from - r, out,
                                outOffset + (t + k) * rows + from, to - from);
                    }
                }
            }
        }
    }

    /** Tokens against the sixteen-row group at {@code groupOffset} ({@link Q4_0RowGroups#dotTokens16}). */
    @Override
    public void dotTokens(QuantizedInput in, int token, int tokens, long groupOffset, float[] scratch, float[] out,
            int at, int stride) {
        int blocks = cols / 32;
        Q4_0RowGroups.dotTokens16(groups, groupOffset, blocks, tokens, in.q4Pairs, token * blocks * Q4_0RowGroups.PAIRS,
                in.d, in.blockSums, token * blocks, scratch, out, at, stride);
    }

    /** One token against the sixteen-row group at {@code groupOffset} ({@link Q4_0RowGroups#dot16}). */
    @Override
    public void dot8(QuantizedInput in, int token, long groupOffset, float[] out, int at) {
        int blocks = cols / 32;
        Q4_0RowGroups.dot16(groups, groupOffset, blocks, in.q4Pairs, token * blocks * Q4_0RowGroups.PAIRS, in.d,
                in.blockSums, token * blocks, out, at);
    }
}
