package dev.buddy.engine.tensor;

/**
 * The prompt driver of the 4- and 5-bit block formats that sum ggml's lanes in float lanes (Q4_1, Q5_0, Q5_1, and
 * Q4_0 matrices whose rows ggml does not repack) at 256/512 bits: a block of rows is unpacked once into exact integer
 * lane vectors ({@link Rows#laneRow}), then every group of four tokens runs over them
 * ({@link LegacyQuantKernels.V256#lanes4}); the tokens left over run the single-token kernel. The 4-token tiles unpacked every block again for each group of four tokens; the lane sums,
 * scale FMAs, reduction and min terms are the same, so every (row, token) keeps the single-token kernel's bits.
 * Measured (throwaway harness: two builds in one JVM through two class loaders, alternated round by round, one
 * thread, 64 tokens, median of per-round ratios, machine under load), against the 4-token tiles: Q4_1 1.15x on
 * 8192x2048, 1.34x on SmolLM2's 1536x576 (gate, up) and 1.51x on its 576x1536 (down); SmolLM2 pp512 end to end
 * 1.16x at one thread. Q8_0 keeps its 4-token tile: unpacked to floats its weights take four times their bytes, and
 * although one matmul alone ran 1.12-1.16x faster, the Llama-3.2-1B-shaped Q8_0 prompt end to end did not (pp128,
 * base / new t/s: one thread 13.9 / 12.5, 11.0 / 11.0; two threads 21.3 / 20.1, 22.4 / 17.5, 18.7 / 19.7).
 *
 * <p>Scratch is per thread, allocated once and grown to the widest row seen, so nothing is allocated per token.
 */
final class LanePrompt {
    /** Unpacked weights per row block, in floats (64 KiB), so that the block stays in L2 while tokens sweep it. */
    private static final int BLOCK_FLOATS = 1 << 14;
    private static final int MAX_ROWS = 16;
    /** Tokens below which prompts run the single-token kernels: unpacking costs about one token's pass. */
    static final int MIN_TOKENS = 4;
    private static final ThreadLocal<LanePrompt> SCRATCH = ThreadLocal.withInitial(LanePrompt::new);

    private float[] weights = new float[0];
    private float[] d = new float[0];
    private float[] m = new float[0];

    /** What a format supplies: one row unpacked into lane vectors. */
    interface Rows {
        /**
         * Row {@code r}'s blocks as exact integer lane vectors ({@code dst[at + 32b + 8t + j]} = element
         * {@code 4j + t} of block b, any bias taken off), each block's fp16 d as float in {@code d[dAt + b]} and, for
         * the formats with a min, its m in {@code m[dAt + b]}.
         */
        void laneRow(int r, float[] dst, int at, float[] d, float[] m, int dAt);

        /** Whether the format adds {@code m_w * s_x} per block (Q4_1, Q5_1). */
        boolean laneMin();
    }

    private LanePrompt() {
    }

    /** Rows {@code [rowFrom, rowTo)} of {@code matrix} for every token of {@code in}; out is token-major. */
    static void rows(WeightMatrix matrix, Rows lanes, QuantizedInput in, int rowFrom, int rowTo, float[] out,
            int outOffset) {
        int cols = matrix.cols;
        int rows = matrix.rows;
        int blocks = cols / 32;
        int tokens = in.tokens();
        boolean withMin = lanes.laneMin();
        int rowBlock = Math.max(1, Math.min(MAX_ROWS, BLOCK_FLOATS / cols));
        LanePrompt s = SCRATCH.get();
        if (s.weights.length < rowBlock * cols) {
            s.weights = new float[rowBlock * cols];
            s.d = new float[rowBlock * blocks];
            s.m = new float[rowBlock * blocks];
        }
        for (int r0 = rowFrom; r0 < rowTo; r0 += rowBlock) {
            int nr = Math.min(rowBlock, rowTo - r0);
            for (int i = 0; i < nr; i++) {
                lanes.laneRow(r0 + i, s.weights, i * cols, s.d, s.m, i * blocks);
            }
            int t = 0;
            for (; t + 4 <= tokens; t += 4) {
                for (int i = 0; i < nr; i++) {
                    LegacyQuantKernels.V256.lanes4(s.weights, i * cols, s.d, s.m, i * blocks, withMin, blocks, in, t,
                            out, outOffset + t * rows + r0 + i, rows);
                }
            }
            for (; t < tokens; t++) {
                for (int r = r0; r < r0 + nr; r++) {
                    out[outOffset + t * rows + r] = matrix.simdDot(r, in, t);
                }
            }
        }
    }
}
