package dev.buddy.engine.tensor;

/**
 * The few-token driver of the formats with a two-row single-token kernel (Q8_0, Q4_1, Q4_K, Q6_K at 256/512 bits):
 * row {@code r} runs with row {@code r + (rowTo - rowFrom) / 2} in one {@link Kernel#dotPair} call, which loads the
 * token's quants once for both and gives each row the single-row kernel's bits; an odd last row runs alone. The two
 * rows are half the range apart, not adjacent: adjacent Q8_0 rows ran slower than one row at a time, spread ones
 * 7.6% faster (throwaway harness, 8192x2048, one thread: 7.37 against 7.93 GB/s); SmolLM2 Q4_1 decode read 1.083x for
 * spread pairs over adjacent ones (eight alternated pairs, session 12).
 */
final class RowPairs {
    private RowPairs() {}

    /** A format's two-row kernel. */
    interface Kernel {
        /**
         * Rows {@code r} and {@code r + stride / rowBytes} against token {@code token} of {@code in}, written to
         * {@code out[out0]} and {@code out[out1]}, each with the bits of the format's single-row kernel.
         */
        void dotPair(int r, long stride, QuantizedInput in, int token, float[] out, int out0, int out1);
    }

    /** Rows {@code [rowFrom, rowTo)} of {@code matrix} for every token of {@code in}, as WeightMatrix.simdRows. */
    static void rows(WeightMatrix matrix, Kernel kernel, QuantizedInput in, int rowFrom, int rowTo, float[] out,
            int outOffset) {
        int half = (rowTo - rowFrom) / 2;
        long stride = half * matrix.rowBytes;
        for (int t = 0; t < in.tokens(); t++) {
            int base = outOffset + t * matrix.rows;
            for (int r = rowFrom; r < rowFrom + half; r++) {
                kernel.dotPair(r, stride, in, t, out, base + r, base + r + half);
            }
            if ((rowTo - rowFrom) % 2 != 0) {
                out[base + rowTo - 1] = matrix.simdDot(rowTo - 1, in, t);
            }
        }
    }
}
