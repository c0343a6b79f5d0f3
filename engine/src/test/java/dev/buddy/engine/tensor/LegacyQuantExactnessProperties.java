package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Bit-exactness of the legacy 4/5-bit kernels (Q4_0, Q4_1, Q5_0, Q5_1): the scalar kernel is an independent
 * byte-level emulation of ggml-cpu's AVX2 vec_dot ({@code bytes_from_nibbles_32}, {@code maddubs}, {@code madd},
 * per-block {@code fmadd}, {@code hsum_float_8}, fma-accumulated {@code summs}), and every SIMD width, for decode and
 * for multi-token batches of any length, gives the scalar kernel's float bits (Q8_0's too: its prompt tile reads the
 * same permuted input).
 */
class LegacyQuantExactnessProperties {
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    @Provide
    Arbitrary<GgmlType> legacyFormats() {
        return Arbitraries.of(GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1);
    }

    /** The batch property also covers Q8_0, whose 4-token prompt tile reads the same permuted input. */
    @Provide
    Arbitrary<GgmlType> permutedInputFormats() {
        return Arbitraries.of(GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0);
    }

    /** Every SIMD width, the 512-bit one even where the Vector API has to emulate it. */
    @Provide
    Arbitrary<VectorWidth> simdWidths() {
        List<VectorWidth> widths = new ArrayList<>(List.of(VectorWidth.W128, VectorWidth.W256, VectorWidth.W512));
        return Arbitraries.of(widths);
    }

    @Property(tries = 200)
    void scalarKernelIsGgmlsAvx2Order(@ForAll("legacyFormats") GgmlType type,
            @ForAll @IntRange(min = 1, max = 16) int rows, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll boolean codecQuantised, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 32 * (1 + rnd.nextInt(40));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.tensor(codecQuantised, type, rows, cols, misalign, rnd, arena);
            WeightMatrix m = WeightMatrix.of("w", type, new long[] {cols, rows}, t, VectorWidth.SCALAR);
            float[] x = TestTensors.randomInput(cols, rnd);
            QuantizedInput in = new QuantizedInput(m.activationFormat());
            in.quantize(x, 0, 1, cols);
            for (int r = 0; r < rows; r++) {
                float expected = ggmlAvx2Dot(type, t, r, cols, in, type == GgmlType.Q4_0 && rows % 8 == 0);
                float actual = m.scalarDot(r, in, 0);
                assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                        type + " row " + r + ": ggml " + expected + " scalar " + actual);
            }
        }
    }

    /**
     * Q8_0 prompts at 512 bits run two rows per 4-token tile ({@code Q8_0Matrix.V256.dot4x2}) on CPUs with 512-bit
     * vectors (elsewhere the single-row tile), with a single-row tile for an odd last row of a row block and single
     * tokens for the rest; the property above reaches that only in a few of its tries.
     */
    @Property(tries = 100)
    void q8_0RowPairPromptTilesGiveTheScalarBits(@ForAll @IntRange(min = 1, max = 37) int rows,
            @ForAll @IntRange(min = 4, max = 13) int tokens, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll boolean codecQuantised, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 32 * (1 + rnd.nextInt(24));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.tensor(codecQuantised, GgmlType.Q8_0, rows, cols, misalign, rnd, arena);
            TestTensors.assertScalarBits(GgmlType.Q8_0, rows, cols, t, VectorWidth.W512,
                    TestTensors.randomInput(tokens * cols, rnd), tokens, SERIAL, threaded ? POOL : SERIAL);
        }
    }

    @Property(tries = 250)
    void everyWidthAndBatchGivesTheScalarBits(@ForAll("permutedInputFormats") GgmlType type,
            @ForAll("simdWidths") VectorWidth width, @ForAll @IntRange(min = 1, max = 37) int rows,
            @ForAll @IntRange(min = 1, max = 19) int tokens, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll boolean codecQuantised, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        // up to 3,072 columns a quarter of the time: Q4_1's prompt path unpacks fewer rows per block for wide rows
        int cols = 32 * (1 + rnd.nextInt(rnd.nextInt(4) == 0 ? 96 : 24));
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.tensor(codecQuantised, type, rows, cols, misalign, rnd, arena);
            long[] dims = {cols, rows};
            WeightMatrix simd = WeightMatrix.of("w", type, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
            float[] x = TestTensors.randomInput(tokens * cols, rnd);
            float[] expected = new float[tokens * rows];
            float[] batched = new float[tokens * rows];
            scalar.matmul(x, tokens, expected, SERIAL);
            simd.matmul(x, tokens, batched, threaded ? POOL : SERIAL);
            float[] single = new float[rows];
            for (int tok = 0; tok < tokens; tok++) {
                simd.matvec(x, tok * cols, single, 0, threaded ? POOL : SERIAL);
                for (int r = 0; r < rows; r++) {
                    int i = tok * rows + r;
                    String where = type + " " + width + " row " + r + " token " + tok + " of " + tokens + ", "
                            + cols + " columns";
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(batched[i]),
                            where + " (batch): scalar " + expected[i] + " simd " + batched[i]);
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(single[r]),
                            where + " (decode): scalar " + expected[i] + " simd " + single[r]);
                }
            }
        }
    }

    /**
     * Blocks at the edges of the integer ranges the 16-bit kernels rely on (Q4_1's quads in 16-bit lanes reach
     * {@code 4 * 15 * 127}): every quant byte set to one extreme pattern, the input one constant sign per block, so
     * each input quant is ±127. Random data almost never gets there. (The scalar kernel's order is ggml's, checked
     * above.)
     */
    @Property(tries = 60)
    void extremeBlocksKeepTheBits(@ForAll("permutedInputFormats") GgmlType type,
            @ForAll("simdWidths") VectorWidth width, @ForAll @IntRange(min = 1, max = 9) int rows,
            @ForAll @IntRange(min = 1, max = 6) int tokens, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 32 * (1 + rnd.nextInt(12));
        byte[] patterns = type == GgmlType.Q8_0 ? new byte[] {(byte) 0x80, (byte) 0x81, 0x7F}
                : new byte[] {(byte) 0xFF, 0x00, (byte) 0xF0, 0x0F};
        // Bytes before the quants: the fp16 scale(s), kept as the random tensor made them; Q5's qh is a quant field.
        int scaleBytes = switch (type) {
            case Q4_1, Q5_1 -> 4;
            default -> 2;
        };
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.randomTensor(type, rows, cols, 0, rnd, arena);
            int bpb = type.bytesPerBlock();
            for (long b = 0; b < (long) rows * cols / 32; b++) {
                byte fill = patterns[rnd.nextInt(patterns.length)];
                t.asSlice(b * bpb + scaleBytes, bpb - scaleBytes).fill(fill);
            }
            long[] dims = {cols, rows};
            WeightMatrix simd = WeightMatrix.of("w", type, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
            float[] x = new float[tokens * cols];
            for (int block = 0; block < tokens * cols / 32; block++) {
                java.util.Arrays.fill(x, block * 32, block * 32 + 32, rnd.nextBoolean() ? 1.5f : -1.5f);
            }
            float[] expected = new float[tokens * rows];
            float[] batched = new float[tokens * rows];
            scalar.matmul(x, tokens, expected, SERIAL);
            simd.matmul(x, tokens, batched, SERIAL);
            float[] single = new float[rows];
            for (int tok = 0; tok < tokens; tok++) {
                simd.matvec(x, tok * cols, single, 0, SERIAL);
                for (int r = 0; r < rows; r++) {
                    int i = tok * rows + r;
                    String where = type + " " + width + " row " + r + " token " + tok;
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(batched[i]),
                            where + " (batch): scalar " + expected[i] + " simd " + batched[i]);
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(single[r]),
                            where + " (decode): scalar " + expected[i] + " simd " + single[r]);
                }
            }
        }
    }

    /**
     * ggml's AVX2 vec_dot, transcribed at byte level: the 32 bytes {@code bytes_from_nibbles_32} makes (plus the
     * fifth bits and the bias of the symmetric formats), {@code maddubs} pairs (checked not to saturate), {@code
     * madd} quads, one float product of the scales, {@code fmadd} per block, {@code hsum_float_8}, and for Q4_1/Q5_1
     * {@code summs = fma(m, s, summs)} added last. With {@code repackedQ4_0}, the AVX2 {@code
     * ggml_gemv_q4_0_8x8_q8_0} instead, which llama.cpp runs on Q4_0 matrices of 8k rows: the exact integer sum of
     * each whole block, {@code acc = fma(sum, d_w * d_x, acc)} in one accumulator.
     */
    static float ggmlAvx2Dot(GgmlType type, MemorySegment t, int r, int cols, QuantizedInput in,
            boolean repackedQ4_0) {
        int blockBytes = (int) type.byteSize(32);
        boolean withMin = type == GgmlType.Q4_1 || type == GgmlType.Q5_1;
        boolean fiveBit = type == GgmlType.Q5_0 || type == GgmlType.Q5_1;
        int qhAt = withMin ? 4 : 2;
        int qsAt = (withMin ? 4 : 2) + (fiveBit ? 4 : 0);
        int bias = withMin ? 0 : (fiveBit ? 16 : 8);
        float[] acc = new float[8];
        float whole = 0f;
        float summs = 0f;
        for (int b = 0; b < cols / 32; b++) {
            long bo = (long) r * type.byteSize(cols) + (long) b * blockBytes;
            int[] qx = new int[32];
            int qh = fiveBit ? t.get(INT, bo + qhAt) : 0;
            for (int i = 0; i < 16; i++) {
                int q = t.get(ValueLayout.JAVA_BYTE, bo + qsAt + i) & 0xFF;
                qx[i] = q & 0x0F;
                qx[i + 16] = q >>> 4;
            }
            for (int i = 0; i < 32; i++) {
                qx[i] = (qx[i] | (((qh >>> i) & 1) << 4)) - bias;
            }
            int[] pairs = new int[16];
            for (int k = 0; k < 16; k++) {
                pairs[k] = qx[2 * k] * in.qs[b * 32 + 2 * k] + qx[2 * k + 1] * in.qs[b * 32 + 2 * k + 1];
                assertTrue(pairs[k] >= Short.MIN_VALUE && pairs[k] <= Short.MAX_VALUE, "maddubs would saturate");
            }
            float d = Float.float16ToFloat(t.get(HALF, bo)) * in.d[b];
            int blockSum = 0;
            for (int j = 0; j < 8; j++) {
                acc[j] = Math.fma(d, (float) (pairs[2 * j] + pairs[2 * j + 1]), acc[j]);
                blockSum += pairs[2 * j] + pairs[2 * j + 1];
            }
            whole = Math.fma((float) blockSum, d, whole);
            if (withMin) {
                summs = Math.fma(Float.float16ToFloat(t.get(HALF, bo + 2)), in.s[b], summs);
            }
        }
        if (repackedQ4_0) {
            return whole;
        }
        float[] half = new float[4];
        for (int j = 0; j < 4; j++) {
            half[j] = acc[j + 4] + acc[j];
        }
        float h = (half[0] + half[2]) + (half[1] + half[3]);
        return withMin ? h + summs : h;
    }
}
