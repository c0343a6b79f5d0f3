package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * Differential properties of the weight kernels: every format x every vector width this machine runs, on random
 * shapes (odd row counts, rows not a multiple of the tile, 1..7 tokens, and prefill batches of 8..17) and tensors that start at odd byte offsets.
 * The scalar kernel is the oracle for the SIMD kernels; the scalar kernel itself is checked against an independent
 * transcription of ggml's dequantisation times the dequantised activation.
 */
class WeightMatrixProperties {
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    @Provide
    Arbitrary<GgmlType> formats() {
        return Arbitraries.of(TestTensors.FORMATS);
    }

    @Provide
    Arbitrary<VectorWidth> simdWidths() {
        List<VectorWidth> simd = VectorWidth.available().stream().filter(w -> w != VectorWidth.SCALAR).toList();
        return simd.isEmpty() ? Arbitraries.of(VectorWidth.SCALAR) : Arbitraries.of(simd);
    }

    @Provide
    Arbitrary<VectorWidth> allWidths() {
        return Arbitraries.of(VectorWidth.available());
    }

    /** Every width this machine runs, plus the 512-bit tiles (emulated in Java where AVX-512 is missing). */
    @Provide
    Arbitrary<VectorWidth> gemmWidths() {
        List<VectorWidth> widths = new java.util.ArrayList<>(VectorWidth.available());
        if (!widths.contains(VectorWidth.W512)) {
            widths.add(VectorWidth.W512);
        }
        return Arbitraries.of(widths);
    }

    /** A random shape for {@code type}: odd column counts for the float formats, whole blocks otherwise. */
    static int randomCols(GgmlType type, Random rnd) {
        return switch (type.blockSize()) {
            case 1 -> 1 + rnd.nextInt(300);
            case 32 -> 32 * (1 + rnd.nextInt(9));
            default -> 256 * (1 + rnd.nextInt(3));
        };
    }

    @Property(tries = 160)
    void simdMatmulMatchesScalar(@ForAll("formats") GgmlType type, @ForAll("simdWidths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 19) int rows, @ForAll @IntRange(min = 1, max = 7) int tokens,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean codecQuantised, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = randomCols(type, rnd);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.tensor(codecQuantised, type, rows, cols, misalign, rnd, arena);
            long[] dims = {cols, rows};
            WeightMatrix simd = WeightMatrix.of("w", type, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
            float[] x = TestTensors.randomInput(tokens * cols, rnd);
            float[] expected = new float[tokens * rows];
            float[] actual = new float[tokens * rows];
            scalar.matmul(x, tokens, expected, SERIAL);
            simd.matmul(x, tokens, actual, rnd.nextBoolean() ? POOL : SERIAL);
            for (int tok = 0; tok < tokens; tok++) {
                for (int r = 0; r < rows; r++) {
                    double bound = magnitude(type, t, r, cols, x, tok * cols);
                    assertClose(expected[tok * rows + r], actual[tok * rows + r], 1e-5 * bound,
                            type + " " + width + " row " + r + " token " + tok);
                }
            }
        }
    }

    /**
     * Long prefill batches (8-17 tokens, up to 37 rows and 1536 columns): rows beyond one row block, token counts that
     * leave a partial 4-token tile, and long rows, so that every width's tiles and edge kernels meet the scalar one.
     */
    @Property(tries = 60)
    void longPrefillBatchesMatchScalar(@ForAll("formats") GgmlType type, @ForAll("gemmWidths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 37) int rows, @ForAll @IntRange(min = 0, max = 9) int extraTokens,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int tokens = 8 + extraTokens;
        int cols = switch (type.blockSize()) {
            case 1 -> 1 + rnd.nextInt(300);
            case 32 -> 32 * (1 + rnd.nextInt(48));
            default -> 256 * (1 + rnd.nextInt(6));
        };
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.randomTensor(type, rows, cols, misalign, rnd, arena);
            long[] dims = {cols, rows};
            WeightMatrix m = WeightMatrix.of("w", type, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
            float[] x = TestTensors.randomInput(tokens * cols, rnd);
            float[] expected = new float[tokens * rows];
            float[] actual = new float[tokens * rows];
            scalar.matmul(x, tokens, expected, SERIAL);
            m.matmul(x, tokens, actual, threaded ? POOL : SERIAL);
            for (int tok = 0; tok < tokens; tok++) {
                for (int r = 0; r < rows; r++) {
                    double bound = magnitude(type, t, r, cols, x, tok * cols);
                    assertClose(expected[tok * rows + r], actual[tok * rows + r], 1e-5 * bound,
                            type + " " + width + " row " + r + " token " + tok + " of " + tokens + ", " + cols
                                    + " columns");
                }
            }
        }
    }

    /**
     * The 512-bit kernels on any machine: without AVX-512 the Vector API runs them in Java (slowly, but with the
     * same lane semantics), so their lane bookkeeping is checked even where {@link VectorWidth#available()} stops
     * at 256 bits.
     */
    @Property(tries = 40)
    void wideKernelsMatchScalarEverywhere(@ForAll("formats") GgmlType type,
            @ForAll @IntRange(min = 1, max = 6) int rows, @ForAll @IntRange(min = 1, max = 6) int tokens,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = randomCols(type, rnd);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.randomTensor(type, rows, cols, misalign, rnd, arena);
            long[] dims = {cols, rows};
            WeightMatrix wide = WeightMatrix.of("w", type, dims, t, VectorWidth.W512);
            WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
            float[] x = TestTensors.randomInput(tokens * cols, rnd);
            float[] expected = new float[tokens * rows];
            float[] actual = new float[tokens * rows];
            scalar.matmul(x, tokens, expected, SERIAL);
            wide.matmul(x, tokens, actual, SERIAL);
            for (int tok = 0; tok < tokens; tok++) {
                for (int r = 0; r < rows; r++) {
                    double bound = magnitude(type, t, r, cols, x, tok * cols);
                    assertClose(expected[tok * rows + r], actual[tok * rows + r], 1e-5 * bound,
                            type + " W512 row " + r + " token " + tok);
                }
            }
        }
    }

    @Property(tries = 150)
    void matmulTokenEqualsMatvec(@ForAll("formats") GgmlType type, @ForAll("allWidths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 13) int rows, @ForAll @IntRange(min = 2, max = 7) int tokens,
            @ForAll @IntRange(min = 0, max = 5) int misalign, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = randomCols(type, rnd);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.randomTensor(type, rows, cols, misalign, rnd, arena);
            WeightMatrix m = WeightMatrix.of("w", type, new long[] {cols, rows}, t, width);
            float[] x = TestTensors.randomInput(tokens * cols, rnd);
            float[] all = new float[tokens * rows];
            m.matmul(x, tokens, all, POOL);
            float[] one = new float[rows + 3];
            for (int tok = 0; tok < tokens; tok++) {
                m.matvec(x, tok * cols, one, 3, POOL);
                for (int r = 0; r < rows; r++) {
                    double bound = magnitude(type, t, r, cols, x, tok * cols);
                    assertClose(one[3 + r], all[tok * rows + r], 1e-5 * bound,
                            type + " " + width + " row " + r + " token " + tok);
                }
            }
        }
    }

    @Property(tries = 120)
    void rowIsTheReferenceDequantisation(@ForAll("formats") GgmlType type, @ForAll("allWidths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 5) int rows, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = randomCols(type, rnd);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.randomTensor(type, rows, cols, misalign, rnd, arena);
            WeightMatrix m = WeightMatrix.of("w", type, new long[] {cols, rows}, t, width);
            for (int r = 0; r < rows; r++) {
                float[] dst = new float[cols + 2];
                m.row(r, dst, 2);
                float[] expected = TestTensors.dequantizeRow(type, t, r, cols);
                assertArrayEquals(expected, java.util.Arrays.copyOfRange(dst, 2, cols + 2), type + " row " + r);
            }
        }
    }

    /**
     * The scalar kernel equals the dequantised row dotted with the dequantised activation (in double): integer
     * block sums are exact, so only float rounding separates them. Q4_1/Q5_1 get a looser bound because llama.cpp
     * folds their offset with the fp16-rounded block sum {@code s} of Q8_1.
     */
    @Property(tries = 200)
    void scalarKernelIsTheDequantisedProduct(@ForAll("formats") GgmlType type,
            @ForAll @IntRange(min = 1, max = 4) int rows, @ForAll boolean codecQuantised, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = randomCols(type, rnd);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.tensor(codecQuantised, type, rows, cols, 1, rnd, arena);
            WeightMatrix m = WeightMatrix.of("w", type, new long[] {cols, rows}, t, VectorWidth.SCALAR);
            float[] x = TestTensors.randomInput(cols, rnd);
            QuantizedInput in = new QuantizedInput(m.activationFormat());
            in.quantize(x, 0, 1, cols);
            float[] xd = dequantizedInput(in);
            boolean offsetSums = type == GgmlType.Q4_1 || type == GgmlType.Q5_1;
            for (int r = 0; r < rows; r++) {
                float[] w = TestTensors.dequantizeRow(type, t, r, cols);
                double exact = 0;
                for (int i = 0; i < cols; i++) {
                    exact += (double) w[i] * xd[i];
                }
                double bound = magnitude(type, t, r, cols, x, 0);
                assertClose(exact, m.dotScalar(r, x, 0), (offsetSums ? 2e-3 : 1e-5) * bound, type + " row " + r);
            }
        }
    }

    static float[] dequantizedInput(QuantizedInput in) {
        int n = in.cols() * in.tokens();
        float[] xd = new float[n];
        switch (in.format()) {
            case F32, F16, BF16 -> System.arraycopy(in.values, in.valuesOffset, xd, 0, n);
            default -> {
                int block = in.format().blockSize();
                for (int i = 0; i < n; i++) {
                    xd[i] = in.qs[i] * in.d[i / block];
                }
            }
        }
        return xd;
    }

    /** Sum of |w_i| (with cancelling offsets) times |x_i| padded by a quantisation step: the scale of rounding. */
    static double magnitude(GgmlType type, MemorySegment t, int r, int cols, float[] x, int xOffset) {
        double[] w = TestTensors.magnitudeRow(type, t, r, cols);
        double xmax = 0;
        for (int i = 0; i < cols; i++) {
            xmax = Math.max(xmax, Math.abs(x[xOffset + i]));
        }
        double sum = 0;
        for (int i = 0; i < cols; i++) {
            sum += w[i] * (Math.abs(x[xOffset + i]) + 0.01 * xmax);
        }
        return sum + Float.MIN_NORMAL;
    }

    static void assertClose(double expected, double actual, double tolerance, String what) {
        assertTrue(Math.abs(expected - actual) <= tolerance,
                () -> what + ": expected " + expected + " got " + actual + " (diff " + Math.abs(expected - actual)
                        + " > tolerance " + tolerance + ")");
    }

    @Property(tries = 15)
    void kernelsAreDeterministicAcrossThreadCounts(@ForAll("formats") GgmlType type,
            @ForAll("simdWidths") VectorWidth width, @ForAll @IntRange(min = 70, max = 150) int rows,
            @ForAll long seed) {
        Random rnd = new Random(seed);
        // big enough that the matvec splits into chunks across the pool's threads
        int cols = switch (type.blockSize()) {
            case 1 -> 1000 + rnd.nextInt(100);
            case 32 -> 32 * (32 + rnd.nextInt(8));
            default -> 256 * (4 + rnd.nextInt(2));
        };
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.randomTensor(type, rows, cols, 3, rnd, arena);
            WeightMatrix m = WeightMatrix.of("w", type, new long[] {cols, rows}, t, width);
            float[] x = TestTensors.randomInput(cols, rnd);
            float[] serial = new float[rows];
            float[] parallel = new float[rows];
            m.matvec(x, 0, serial, 0, SERIAL);
            m.matvec(x, 0, parallel, 0, POOL);
            assertArrayEquals(serial, parallel, type + " " + width);
            assertEquals(rows, m.rows());
            assertEquals(cols, m.cols());
        }
    }

    /**
     * Matrices sharing one input run as one parallel region ({@link WeightMatrix#matmulAll}, Q/K/V and gate/up) and
     * give each matrix's own product bit for bit, whatever the row counts (so chunks straddle matrices anywhere),
     * the token count and the thread count.
     */
    @Property(tries = 60)
    void groupedProductsEqualSeparateProducts(@ForAll("formats") GgmlType type, @ForAll("allWidths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 40) int rowsA, @ForAll @IntRange(min = 1, max = 40) int rowsB,
            @ForAll @IntRange(min = 1, max = 6) int tokens, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = type.blockSize() == 1 ? 64 : 2 * type.blockSize();
        Parallel pool = threaded ? POOL : SERIAL;
        try (Arena arena = Arena.ofShared()) {
            WeightMatrix a = WeightMatrix.of("a", type, new long[] {cols, rowsA},
                    TestTensors.randomTensor(type, rowsA, cols, 0, rnd, arena), width);
            WeightMatrix b = WeightMatrix.of("b", type, new long[] {cols, rowsB},
                    TestTensors.randomTensor(type, rowsB, cols, 1, rnd, arena), width);
            float[] x = TestTensors.randomInput(tokens * cols, rnd);
            QuantizedInput in = new QuantizedInput(a.activationFormat());
            in.quantize(x, 0, tokens, cols);
            float[] expectedA = new float[tokens * rowsA];
            float[] expectedB = new float[tokens * rowsB];
            a.matmul(in, expectedA, 0, SERIAL);
            b.matmul(in, expectedB, 0, SERIAL);
            float[][] outs = {new float[tokens * rowsA], new float[tokens * rowsB]};
            WeightMatrix.matmulAll(in, new WeightMatrix[] {a, b}, outs, pool);
            assertArrayEquals(expectedA, outs[0], type + " " + width + " first matrix");
            assertArrayEquals(expectedB, outs[1], type + " " + width + " second matrix");
        }
    }
}
