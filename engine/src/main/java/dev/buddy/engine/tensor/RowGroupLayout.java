package dev.buddy.engine.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;

/**
 * The row-group copy of a legacy 4-bit matrix (Q4_0, Q4_1) that the eight-row kernels read ({@link Q4_0RowGroups},
 * {@link Q4_1RowGroups}), in the spirit of llama.cpp's repacked {@code block_q4_0x8}: eight rows in eight places of
 * the file are eight streams a row apart, which the prefetchers follow badly, and eight fp16 scales 1-2 KB apart can
 * only be widened one at a time; packed, a group is one sequential stream and its eight scales one load.
 *
 * <p>A GGUF block of these formats is {@code halves} fp16 fields (Q4_0: d; Q4_1: d, m) followed by 16 quant bytes.
 * Group g (rows 8g..8g+7) starts at byte {@code g * 8 * rowBytes}; its block b, {@code 8 * blockBytes} bytes at
 * {@code b * 8 * blockBytes} within the group, holds field i of row 8g+k at byte {@code 2 * (8i + k)} (all eight d,
 * then all eight m), then the eight rows' quants: row-major (row 8g+k's 16 bytes at {@code 16 * halves + 16k}), or in
 * the lane layout of the 512-bit kernels, as four 32-byte chunks, chunk c holding byte {@code 4c + q} of row 8g+k at
 * {@code 16 * halves + 32c + 8q + k}.
 *
 * <p>The Q4_K copy ({@link Q4_KRowGroups}) and the sixteen-row Q4_0, Q8_0 and Q6_K copies
 * ({@link Q4_0RowGroups#pack16}, {@link Q8_0RowGroups}, {@link Q6_KRowGroups}) have layouts of their own, made through
 * {@link #copyGroups}.
 */
final class RowGroupLayout {
    private RowGroupLayout() {}

    /** Rows per group: the accumulator lanes of one 256-bit float vector. */
    static final int ROWS = 8;
    /** Bytes of the quants of one row's block. */
    static final int QUANTS = 16;
    /** Row groups per task of {@link #pack}. */
    private static final int PACK_SLICE = 64;

    /** Where fp16 field {@code i} (0: d, 1: m) of group row {@code k}'s block sits within its group block. */
    static int fieldAt(int i, int k) {
        return 2 * (ROWS * i + k);
    }

    /**
     * Where quant byte {@code j} of group row {@code k}'s block sits within its group block, for blocks of
     * {@code halves} fp16 fields, in the lane layout or row-major.
     */
    static int quantAt(int halves, boolean lanes, int k, int j) {
        int start = ROWS * 2 * halves;
        return lanes ? start + 32 * (j >> 2) + 8 * (j & 3) + k : start + QUANTS * k + j;
    }

    /**
     * The copy described above of a matrix of {@code rows} rows (a multiple of 8) of {@code blocks} blocks of
     * {@code blockBytes} bytes, each starting with {@code halves} fp16 fields. It is the size of the original, in
     * memory the garbage collector frees with the matrix; a mapped original is unloaded once copied, so the file's
     * pages are not resident twice (they come back from the page cache if a row-wise path reads them). Null, with the
     * original left in place, when any fp16 field is an infinity or a NaN (exponent 31, which no quantiser writes):
     * the kernels widen them with a shortcut exact only for finite halves ({@link Q4_0RowGroups#pack}).
     */
    static MemorySegment pack(MemorySegment data, int rows, int blocks, int blockBytes, int halves, boolean lanes) {
        int rowBytes = blocks * blockBytes;
        int groupBlock = ROWS * blockBytes;
        int quantsAt = 2 * halves;
        // in slices of groups on the common pool: a 1B model's Q4_0 matrices are half a gigabyte to reorder at load
        return copyGroups(data, rows, rowBytes, ROWS * rowBytes, PACK_SLICE, (group, out) -> {
            boolean finite = true;
            for (int b = 0; b < blocks; b++) {
                int to = b * groupBlock;
                for (int k = 0; k < ROWS; k++) {
                    int from = k * rowBytes + b * blockBytes;
                    for (int i = 0; i < halves; i++) {
                        out[to + fieldAt(i, k)] = group[from + 2 * i];
                        out[to + fieldAt(i, k) + 1] = group[from + 2 * i + 1];
                        finite &= isFinite(group[from + 2 * i + 1]);
                    }
                    if (lanes) {
                        for (int j = 0; j < QUANTS; j++) {
                            out[to + quantAt(halves, true, k, j)] = group[from + quantsAt + j];
                        }
                    } else {
                        System.arraycopy(group, from + quantsAt, out, to + quantAt(halves, false, k, 0), QUANTS);
                    }
                }
            }
            return finite;
        });
    }

    /** Rows per group of the sixteen-row copies ({@link #packPairs16}). */
    static final int PAIR_ROWS = 16;

    /**
     * The sixteen-row copy that the Q4_0, Q4_1 and Q8_0 sixteen-row kernels read ({@link Q4_0RowGroups#dot16},
     * {@link Q4_1RowGroups#dot16}, {@link Q8_0RowGroups#dot16}) of a matrix of {@code rows} rows (a multiple of 16)
     * of {@code blocks} blocks of {@code blockBytes} bytes, each {@code halves} fp16 fields (Q4_1: d, m) and then its
     * quant bytes: a group block is the sixteen rows' field i (row l at {@code 32i + 2l}), then 32-byte chunks, chunk u
     * holding quant bytes {@code 2u} and {@code 2u + 1} of row l at {@code 32 halves + 32u + 2l}
     * ({@link #pairQuantAt}). The copy is the original's size; null when a field is not finite (see
     * {@link #copyGroups}).
     */
    static MemorySegment packPairs16(MemorySegment data, int rows, int blocks, int blockBytes, int halves) {
        int rowBytes = blocks * blockBytes;
        int groupBlock = PAIR_ROWS * blockBytes;
        int quants = blockBytes - 2 * halves;
        return copyGroups(data, rows, rowBytes, PAIR_ROWS, PAIR_ROWS * rowBytes, 32, (group, out) -> {
            boolean finite = true;
            for (int b = 0; b < blocks; b++) {
                int to = b * groupBlock;
                for (int l = 0; l < PAIR_ROWS; l++) {
                    int from = l * rowBytes + b * blockBytes;
                    for (int i = 0; i < halves; i++) {
                        out[to + 2 * PAIR_ROWS * i + 2 * l] = group[from + 2 * i];
                        out[to + 2 * PAIR_ROWS * i + 2 * l + 1] = group[from + 2 * i + 1];
                        finite &= isFinite(group[from + 2 * i + 1]);
                    }
                    for (int j = 0; j < quants; j++) {
                        out[to + pairQuantAt(halves, l, j)] = group[from + 2 * halves + j];
                    }
                }
            }
            return finite;
        });
    }

    /**
     * Where quant byte {@code j} of group row {@code l}'s block sits within a {@link #packPairs16} group block of
     * blocks with {@code halves} fp16 fields.
     */
    static int pairQuantAt(int halves, int l, int j) {
        return 2 * PAIR_ROWS * halves + 32 * (j >> 1) + 2 * l + (j & 1);
    }

    /** Whether the fp16 value whose high byte is {@code high} is finite (exponent below 31). */
    static boolean isFinite(byte high) {
        return (high & 0x7c) != 0x7c;
    }

    /** Rewrites the rows of one group, read into {@code in}, as {@code out}. */
    interface GroupReorder {
        /** @return false when a scale the kernels would widen is not finite */
        boolean reorder(byte[] in, byte[] out);
    }

    /**
     * A copy of {@code rows} rows (a multiple of 8) of {@code rowBytes} bytes, group by group ({@code groupBytes}
     * each in the copy), in slices of {@code slice} groups on the common pool; null when {@code reorder} finds a
     * non-finite scale. The copy lives in memory the garbage collector frees with the matrix; a mapped original is
     * unloaded once copied, so the file's pages are not resident twice.
     */
    static MemorySegment copyGroups(MemorySegment data, int rows, int rowBytes, int groupBytes, int slice,
            GroupReorder reorder) {
        return copyGroups(data, rows, rowBytes, ROWS, groupBytes, slice, reorder);
    }

    /** {@link #copyGroups(MemorySegment, int, int, int, int, GroupReorder)} for groups of {@code groupRows} rows. */
    static MemorySegment copyGroups(MemorySegment data, int rows, int rowBytes, int groupRows, int groupBytes,
            int slice, GroupReorder reorder) {
        if (rows % groupRows != 0) {
            throw new IllegalArgumentException(rows + " rows are not whole groups of " + groupRows);
        }
        int groups = rows / groupRows;
        MemorySegment packed = Arena.ofAuto().allocate((long) groups * groupBytes, 64);
        int slices = (groups + slice - 1) / slice;
        AtomicBoolean nonFinite = new AtomicBoolean();
        IntStream.range(0, slices).parallel().forEach(i -> {
            byte[] in = new byte[groupRows * rowBytes];
            byte[] out = new byte[groupBytes];
            for (long g = (long) i * slice; g < Math.min(groups, (i + 1L) * slice); g++) {
                MemorySegment.copy(data, ValueLayout.JAVA_BYTE, g * groupRows * rowBytes, in, 0, in.length);
                if (!reorder.reorder(in, out)) {
                    nonFinite.set(true);
                }
                MemorySegment.copy(out, 0, packed, ValueLayout.JAVA_BYTE, g * groupBytes, out.length);
            }
        });
        if (nonFinite.get()) {
            return null;
        }
        if (data.isMapped()) {
            data.unload();
        }
        return packed;
    }

    /** A single-token kernel over a row-group copy (eight rows a group, or {@link #groupRows}' count). */
    interface GroupKernel {
        /** Group at byte {@code groupOffset} of the copy against token {@code token}: its rows to {@code out[at ..]}. */
        void dot8(QuantizedInput in, int token, long groupOffset, float[] out, int at);
    }

    /** A prompt tile over a row-group copy: several tokens against one group a call (single tokens: {@link #dot8}). */
    interface TileKernel extends GroupKernel {
        /**
         * Tokens {@code [token, token + tokens)} against the group at byte {@code groupOffset} of the copy: token
         * {@code token + k}'s rows to {@code out[at + k * stride ..]}, with {@code scratch} ({@link #TILE_SCRATCH}
         * floats, the calling thread's) for the tile's sums.
         */
        void dotTokens(QuantizedInput in, int token, int tokens, long groupOffset, float[] scratch, float[] out,
                int at, int stride);
    }

    /** Most tokens per {@link TileKernel} call ({@link #groupTiles}). */
    static final int TILE_TOKENS = 8;

    /** Floats of a tile's scratch: the largest kernel's (Q4_K's {@link Q4_KRowGroups#TILE_FLOATS} a token). */
    static final int TILE_SCRATCH =
            Math.max(Q4_KRowGroups.TILE_FLOATS, Q4_1RowGroups.TILE_FLOATS16) * TILE_TOKENS;

    /** Per thread, a tile's sums, then the outputs of a group that the caller's row range cuts. */
    private static final ThreadLocal<float[]> TILE_BUFFERS =
            ThreadLocal.withInitial(() -> new float[TILE_SCRATCH + RowGroupLayout.MAX_GROUP_ROWS * TILE_TOKENS]);

    /**
     * Every token of {@code in} against rows {@code [rowFrom, rowTo)} through {@code kernel}, token t's row r to
     * {@code out[outOffset + t * rows + r]}: a single token group by group ({@link #groupRows}); several in row blocks
     * of {@link #TOKEN_ROW_BLOCK} rows (cut on absolute multiples, so no group straddles two), each swept by tiles of
     * up to {@link #TILE_TOKENS} tokens. A group that the range cuts is computed whole and only its rows in range
     * copied out.
     */
    static void groupTiles(TileKernel kernel, QuantizedInput in, int rowFrom, int rowTo, int groupRows,
            long groupBytes, float[] out, int outOffset, int rows) {
        int tokens = in.tokens();
        if (tokens == 1) {
            groupRows(kernel, in, 0, rowFrom, rowTo, groupRows, groupBytes, out, outOffset);
            return;
        }
        float[] buffers = TILE_BUFFERS.get();
        for (int from = rowFrom; from < rowTo; ) {
            int to = Math.min(rowTo, (from / TOKEN_ROW_BLOCK + 1) * TOKEN_ROW_BLOCK);
            for (int t = 0; t < tokens; t += TILE_TOKENS) {
                int n = Math.min(TILE_TOKENS, tokens - t);
                for (int g = from / groupRows; g * groupRows < to; g++) {
                    int r = g * groupRows;
                    if (r >= from && r + groupRows <= to) {
                        kernel.dotTokens(in, t, n, g * groupBytes, buffers, out, outOffset + t * rows + r, rows);
                        continue;
                    }
                    kernel.dotTokens(in, t, n, g * groupBytes, buffers, buffers, TILE_SCRATCH, groupRows);
                    int first = Math.max(r, from);
                    int last = Math.min(r + groupRows, to);
                    for (int k = 0; k < n; k++) {
                        System.arraycopy(buffers, TILE_SCRATCH + k * groupRows + first - r, out,
                                outOffset + (t + k) * rows + first, last - first);
                    }
                }
            }
            from = to;
        }
    }

    /** The most rows a group of any format has (Q8_0's and Q6_K's sixteen). */
    static final int MAX_GROUP_ROWS = 16;

    /** Per thread, the outputs of a group that the caller's row range cuts, so that no call allocates. */
    private static final ThreadLocal<float[]> WINDOW = ThreadLocal.withInitial(() -> new float[MAX_GROUP_ROWS]);

    /**
     * Rows per cache block when several tokens run through the groups: a block's weights stay in L2 while the tokens
     * sweep them. On the 300 MiB L3 of the Intel VM blocks of 16, 64, 256 rows and none timed alike (Q4_1 8192x2048,
     * 128 tokens, one thread: 145-193 ms either way); it is there for CPUs whose L3 a matrix does not fit.
     */
    static final int TOKEN_ROW_BLOCK = 64;

    /**
     * Every token of {@code in} against rows {@code [rowFrom, rowTo)} through {@code kernel}, token t's row r to
     * {@code out[outOffset + t * rows + r]}: in row blocks of {@link #TOKEN_ROW_BLOCK}, cut on absolute multiples so
     * that no group straddles two blocks, each swept by all the tokens ({@link #groupRows}).
     */
    static void groupTokens(GroupKernel kernel, QuantizedInput in, int rowFrom, int rowTo, int groupRows,
            long groupBytes, float[] out, int outOffset, int rows) {
        for (int from = rowFrom; from < rowTo; ) {
            int to = Math.min(rowTo, (from / TOKEN_ROW_BLOCK + 1) * TOKEN_ROW_BLOCK);
            for (int t = 0; t < in.tokens(); t++) {
                groupRows(kernel, in, t, from, to, groupRows, groupBytes, out, outOffset + t * rows);
            }
            from = to;
        }
    }

    /**
     * Token {@code token} against rows {@code [rowFrom, rowTo)} through {@code kernel}, groups of {@code groupRows}
     * rows and {@code groupBytes} bytes, row r to {@code out[at + r]}; a group that the range cuts (parallel chunks
     * may split a group) is computed whole and only its rows in range copied out.
     */
    static void groupRows(GroupKernel kernel, QuantizedInput in, int token, int rowFrom, int rowTo, int groupRows,
            long groupBytes, float[] out, int at) {
        for (int g = rowFrom / groupRows; g * groupRows < rowTo; g++) {
            int r = g * groupRows;
            if (r >= rowFrom && r + groupRows <= rowTo) {
                kernel.dot8(in, token, g * groupBytes, out, at + r);
                continue;
            }
            float[] window = WINDOW.get();
            kernel.dot8(in, token, g * groupBytes, window, 0);
            int from = Math.max(r, rowFrom);
            System.arraycopy(window, from - r, out, at + from, Math.min(r + groupRows, rowTo) - from);
        }
    }
}
