package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * The float weight formats (F32, F16, BF16) sum in llama.cpp's own orders, so their kernels are compared bit for bit,
 * not within a tolerance:
 * <ul>
 *   <li>every vector width (those this machine runs, plus the 512-bit path) against the scalar kernel, for one token
 *       ({@code ggml_vec_dot_*}) and for batches (tinyBLAS where llama.cpp uses it, vec_dot where it declines the
 *       shape), over row counts on and off tinyBLAS's multiple of 4 and column counts on and off 8 and 32;</li>
 *   <li>the scalar kernel against a transcription built from {@link GgmlSums}' 32-slot reduction and F32 tail (the
 *       orders the attention kernels use, checked there against llama.cpp), on the dequantised row and the
 *       rounded input.</li>
 * </ul>
 */
class FloatFormatOrderProperties {
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    @Provide
    Arbitrary<GgmlType> floatFormats() {
        return Arbitraries.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16);
    }

    @Provide
    Arbitrary<VectorWidth> widths() {
        List<VectorWidth> widths = new ArrayList<>(VectorWidth.available());
        widths.remove(VectorWidth.SCALAR);
        if (!widths.contains(VectorWidth.W512)) {
            widths.add(VectorWidth.W512); // runs the 256-bit kernels, so it is cheap to check everywhere
        }
        return Arbitraries.of(widths);
    }

    @Provide
    Arbitrary<Integer> columns() {
        return Arbitraries.oneOf(Arbitraries.integers().between(1, 300),
                Arbitraries.integers().between(1, 40).map(k -> 8 * k),
                Arbitraries.integers().between(1, 10).map(k -> 32 * k));
    }

    @Property(tries = 200)
    void everyWidthSumsLikeTheScalarKernel(@ForAll("floatFormats") GgmlType type, @ForAll("widths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 13) int rows, @ForAll("columns") int cols,
            @ForAll @IntRange(min = 1, max = 9) int tokens, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.randomTensor(type, rows, cols, misalign, rnd, arena);
            long[] dims = {cols, rows};
            WeightMatrix simd = WeightMatrix.of("w", type, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
            float[] x = TestTensors.randomInput(tokens * cols, rnd);
            float[] expected = new float[tokens * rows];
            float[] actual = new float[tokens * rows];
            scalar.matmul(x, tokens, expected, SERIAL);
            simd.matmul(x, tokens, actual, threaded ? POOL : SERIAL);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                        () -> type + " " + width + " " + rows + "x" + cols + ", " + tokens + " tokens: " + expected
                                + " vs " + actual);
            }
        }
    }

    @Property(tries = 200)
    void scalarKernelFollowsGgmlOrder(@ForAll("floatFormats") GgmlType type,
            @ForAll @IntRange(min = 1, max = 9) int rows, @ForAll("columns") int cols,
            @ForAll @IntRange(min = 1, max = 5) int tokens, @ForAll long seed) {
        Random rnd = new Random(seed);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.randomTensor(type, rows, cols, 0, rnd, arena);
            WeightMatrix m = WeightMatrix.of("w", type, new long[] {cols, rows}, t, VectorWidth.SCALAR);
            float[] x = TestTensors.randomInput(tokens * cols, rnd);
            float[] out = new float[tokens * rows];
            m.matmul(x, tokens, out, SERIAL);
            boolean tinyBlas = tokens >= 2 && rows % 4 == 0 && cols % 8 == 0;
            float[] w = new float[cols];
            float[] xr = new float[cols];
            for (int tok = 0; tok < tokens; tok++) {
                for (int j = 0; j < cols; j++) {
                    xr[j] = switch (type) {
                        case F16 -> Halfs.roundToF16(x[tok * cols + j]);
                        case BF16 -> Halfs.roundToBf16(x[tok * cols + j]);
                        default -> x[tok * cols + j];
                    };
                }
                for (int r = 0; r < rows; r++) {
                    m.row(r, w, 0);
                    float expected = tinyBlas ? tinyBlas(w, xr, cols) : vecDot(type, w, xr, cols);
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[tok * rows + r]),
                            type + " row " + r + " token " + tok + " of " + tokens + ", " + rows + "x" + cols);
                }
            }
        }
    }

    /** ggml_vec_dot_f32/f16/bf16 from 32 FMA slots (slot = accumulator * 8 + lane). */
    private static float vecDot(GgmlType type, float[] w, float[] x, int n) {
        int np = n & ~31;
        float[] slots = new float[32];
        for (int i = 0; i < np; i++) {
            slots[i % 32] = Math.fma(w[i], x[i], slots[i % 32]);
        }
        if (type == GgmlType.F32) {
            return GgmlSums.tailF32(w, 0, x, 0, np, n, GgmlSums.reduce32(slots, 0, 1));
        }
        float lanes;
        if (type == GgmlType.F16) {
            lanes = GgmlSums.reduce32(slots, 0, 1);
        } else {
            float[] l = new float[8];
            for (int j = 0; j < 8; j++) {
                l[j] = (slots[j] + slots[16 + j]) + (slots[8 + j] + slots[24 + j]);
            }
            lanes = GgmlSums.tinyBlasHsum(l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7]);
        }
        double sum = lanes;
        for (int i = np; i < n; i++) {
            sum += w[i] * x[i];
        }
        return (float) sum;
    }

    /** tinyBLAS: one 8-lane FMA accumulator, then its hsum. */
    private static float tinyBlas(float[] w, float[] x, int n) {
        float[] l = new float[8];
        for (int i = 0; i < n; i++) {
            l[i % 8] = Math.fma(w[i], x[i], l[i % 8]);
        }
        return GgmlSums.tinyBlasHsum(l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7]);
    }
}
