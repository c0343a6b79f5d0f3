package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Q4_1 weights: {@code block_q4_1}: fp16 d, fp16 m, qs[16] (nibbles as in Q4_0); 20 bytes per 32 elements, dequantised
 * as {@code q * d + m}. Products follow {@code ggml_vec_dot_q4_1_q8_1}: the input is quantised to Q8_1, each block is
 * an exact integer dot of the unpacked quants with the input quants, scaled by {@code d_w * d_x}, plus {@code m_w *
 * s_x} for the block offset ({@code s_x} is Q8_1's fp16 {@code d * sum(q)}).
 *
 * <p>Kernels: {@link LegacyQuantKernels} (scalar reference, float-lane SIMD at 128/256 bits, the 256-bit kernels at
 * 512), in ggml's AVX2 order bit for bit, at every width and for any number of tokens; why float lanes, and what
 * they cost against the earlier (inexact) kernels, is measured there. On CPUs with 512-bit vectors, matrices of 8k
 * rows are copied at load into row groups ({@link Q4_1RowGroups}) and every token runs sixteen rows at a time (16k
 * rows, {@link Q4_1RowGroups#dot16}, prompts in tiles of eight tokens) or eight, in the same order and so with the
 * same bits.
 */
final class Q4_1Matrix extends WeightMatrix implements LanePrompt.Rows, RowPairs.Kernel, RowGroupLayout.TileKernel {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final int BLOCK = 20;

    /**
     * The weights in {@link Q4_1RowGroups}' lane layout, which its eight-row kernel reads; null unless the CPU has
     * 512-bit vectors at this width ({@link VectorWidth#native512}), the row count is a multiple of 8 and every d and m
     * is finite. The scalar kernel keeps reading {@link #data}; {@link #row} reads the groups.
     */
    private final MemorySegment groups;

    /**
     * Whether {@link #groups} are sixteen-row groups ({@link Q4_1RowGroups#pack16}, read by
     * {@link Q4_1RowGroups#dot16}): matrices of 16k rows; other multiples of 8 keep the eight-row lane layout.
     */
    private final boolean sixteen;

    Q4_1Matrix(String name, int rows, int cols, MemorySegment data, VectorWidth width) {
        super(name, GgmlType.Q4_1, rows, cols, data, width);
        boolean wide = width.native512();
        this.groups = wide && rows % Q4_1RowGroups.ROWS16 == 0 ? Q4_1RowGroups.pack16(data, rows, cols / 32)
                : wide && rows % Q4_1RowGroups.ROWS == 0 ? Q4_1RowGroups.pack(data, rows, cols / 32) : null;
        this.sixteen = groups != null && rows % Q4_1RowGroups.ROWS16 == 0;
    }

    @Override
    public ActivationFormat activationFormat() {
        return ActivationFormat.Q8_1;
    }

    /** The two quants held by byte j of the block at {@code bo}: element j (low) and element j+16 (high). */
    private int lowQuant(long bo, int j) {
        return (data.get(BYTE, bo + 4 + j) & 0x0F);
    }

    private int highQuant(long bo, int j) {
        return ((data.get(BYTE, bo + 4 + j) >> 4) & 0x0F);
    }

    /**
     * {@code dequantize_row_q4_1}: {@code q * d + m}; from the row groups where they exist, so that a row-wise reader
     * (embedding lookups of a tied table, router training's transposed products) does not bring the unloaded original
     * back into memory beside them.
     */
    @Override
    public void row(int r, float[] dst, int dstOffset) {
        if (sixteen) {
            long group = (long) (r - r % Q4_1RowGroups.ROWS16) * rowBytes;
            int l = r % Q4_1RowGroups.ROWS16;
            for (int b = 0; b < cols / 32; b++) {
                long gb = group + (long) b * Q4_1RowGroups.GROUP_BLOCK16;
                float d = Halfs.f16ToFloat(groups.get(HALF, gb + 2L * l));
                float m = Halfs.f16ToFloat(groups.get(HALF, gb + 2L * Q4_1RowGroups.ROWS16 + 2L * l));
                int o = dstOffset + b * 32;
                for (int j = 0; j < 16; j++) {
                    int q = groups.get(BYTE, gb + Q4_1RowGroups.quantAt16(l, j));
                    dst[o + j] = (q & 0x0F) * d + m;
                    dst[o + j + 16] = ((q >> 4) & 0x0F) * d + m;
                }
            }
            return;
        }
        if (groups != null) {
            long group = (long) (r - r % RowGroupLayout.ROWS) * rowBytes;
            int k = r % RowGroupLayout.ROWS;
            for (int b = 0; b < cols / 32; b++) {
                long gb = group + (long) b * Q4_1RowGroups.GROUP_BLOCK;
                float d = Halfs.f16ToFloat(groups.get(HALF, gb + RowGroupLayout.fieldAt(0, k)));
                float m = Halfs.f16ToFloat(groups.get(HALF, gb + RowGroupLayout.fieldAt(1, k)));
                int o = dstOffset + b * 32;
                for (int j = 0; j < 16; j++) {
                    int q = groups.get(BYTE, gb + RowGroupLayout.quantAt(2, true, k, j));
                    dst[o + j] = (q & 0x0F) * d + m;
                    dst[o + j + 16] = ((q >> 4) & 0x0F) * d + m;
                }
            }
            return;
        }
        long off = rowOffset(r);
        for (int b = 0; b < cols / 32; b++) {
            long bo = off + (long) b * BLOCK;
            float d = Halfs.f16ToFloat(data.get(HALF, bo));
            float m = Halfs.f16ToFloat(data.get(HALF, bo + 2));
            int o = dstOffset + b * 32;
            for (int j = 0; j < 16; j++) {
                dst[o + j] = lowQuant(bo, j) * d + m;
                dst[o + j + 16] = highQuant(bo, j) * d + m;
            }
        }
    }

    @Override
    float scalarDot(int r, QuantizedInput in, int token) {
        return LegacyQuantKernels.scalarDot(LegacyQuantKernels.Layout.Q4_1, data, rowOffset(r), cols / 32, in, token,
                false);
    }

    @Override
    float simdDot(int r, QuantizedInput in, int token) {
        int blocks = cols / 32;
        return switch (width) {
            case W128 -> LegacyQuantKernels.V128.dot(LegacyQuantKernels.Layout.Q4_1, data, rowOffset(r), blocks,
                    in.permuted, token * cols, in.d, in.s, token * blocks, false);
            case W256, W512 -> LegacyQuantKernels.V256.dotQ4_1(data, rowOffset(r), blocks, in.qs, token * cols, in.d,
                    in.s, token * blocks);
            case SCALAR -> scalarDot(r, in, token);
        };
    }

    /**
     * With sixteen-row {@link #groups}, single tokens run {@link Q4_1RowGroups#dot16} and prompts its tile over up to
     * eight tokens ({@link Q4_1RowGroups#dotTokens16}, which unpacks each block once per tile: 1.38x and 1.53x the
     * single-token kernel token by token on SmolLM2's 1536x576 and 576x1536 matrices at 64 tokens, session 36; taken
     * back once for the slow mode it brought on, which session 37 traced to Vector API calls that dispatch inside the
     * JDK, see {@link Constants512}); with eight-row groups every token runs {@link Q4_1RowGroups#dot8}, prompts too:
     * rows unpacked from the groups into {@link LanePrompt}'s float lanes ran slower (SmolLM2 pp512, {@code bench -p
     * 512 -n 0 -r 3 -t 2}, four alternated rounds: LanePrompt 145-183 t/s, the group kernel token by token 156-207, the
     * row-wise build before 161-180), and a two-token group kernel, which widens each chunk once for both tokens, was
     * only 1.03x faster (median of six alternated pairs) while its compilation took C2's arena from 24 to 49 MB at the
     * peak, which glibc keeps: 246 against 221 MiB peak RSS. Without groups, single tokens at 256 bits and up run two
     * rows per pass through {@link RowPairs} ({@link LegacyQuantKernels.V256#dotQ4_1Pair}, each row's bits those of
     * {@link LegacyQuantKernels.V256#dotQ4_1}) and prompts {@link LanePrompt}. All give every (row, token) the scalar
     * kernel's bits.
     */
    @Override
    void simdRows(QuantizedInput in, int rowFrom, int rowTo, float[] out, int outOffset) {
        if (sixteen) {
            RowGroupLayout.groupTiles(this, in, rowFrom, rowTo, Q4_1RowGroups.ROWS16, Q4_1RowGroups.ROWS16 * rowBytes,
                    out, outOffset, rows);
            return;
        }
        if (groups != null) {
            RowGroupLayout.groupTokens(this, in, rowFrom, rowTo, RowGroupLayout.ROWS, RowGroupLayout.ROWS * rowBytes,
                    out, outOffset, rows);
            return;
        }
        if (in.tokens() != 1 || (width != VectorWidth.W256 && width != VectorWidth.W512)) {
            super.simdRows(in, rowFrom, rowTo, out, outOffset);
        } else {
            RowPairs.rows(this, this, in, rowFrom, rowTo, out, outOffset);
        }
    }

    /**
     * {@link Q4_1RowGroups#dot16} or {@link Q4_1RowGroups#dot8} on {@link #groups} (the drivers:
     * {@link RowGroupLayout#groupRows}).
     */
    @Override
    public void dot8(QuantizedInput in, int token, long groupOffset, float[] out, int at) {
        int blocks = cols / 32;
        if (sixteen) {
            Q4_1RowGroups.dot16(groups, groupOffset, blocks, in.q8Pairs, token * blocks * Q8_0RowGroups.PAIRS, in.d,
                    in.s, token * blocks, out, at);
        } else {
            Q4_1RowGroups.dot8(groups, groupOffset, blocks, in.qs, token * cols, in.d, in.s, token * blocks, out, at);
        }
    }

    /**
     * Tokens against the sixteen-row group at {@code groupOffset} ({@link Q4_1RowGroups#dotTokens16}; only
     * {@link RowGroupLayout#groupTiles} calls it, for sixteen-row groups).
     */
    @Override
    public void dotTokens(QuantizedInput in, int token, int tokens, long groupOffset, float[] scratch, float[] out,
            int at, int stride) {
        int blocks = cols / 32;
        Q4_1RowGroups.dotTokens16(groups, groupOffset, blocks, tokens, in.q8Pairs,
                token * blocks * Q8_0RowGroups.PAIRS, in.d, in.s, token * blocks, scratch, out, at, stride);
    }

    /** The sixteen-row kernel reads the input's quant pairs. */
    @Override
    boolean readsQ8Pairs() {
        return sixteen;
    }

    @Override
    public void dotPair(int r, long stride, QuantizedInput in, int token, float[] out, int out0, int out1) {
        int blocks = cols / 32;
        LegacyQuantKernels.V256.dotQ4_1Pair(data, rowOffset(r), stride, blocks, in.qs, token * cols, in.d, in.s,
                token * blocks, out, out0, out1);
    }

    @Override
    public void laneRow(int r, float[] dst, int at, float[] d, float[] m, int dAt) {
        LegacyQuantKernels.V256.laneWeights(LegacyQuantKernels.Layout.Q4_1, data, rowOffset(r), cols / 32, dst, at, d, m,
                dAt);
    }

    @Override
    public boolean laneMin() {
        return true;
    }

    /** Every kernel but the row groups' reads the permuted input. */
    @Override
    boolean readsPermutedInput(int tokens) {
        return groups == null;
    }
}
