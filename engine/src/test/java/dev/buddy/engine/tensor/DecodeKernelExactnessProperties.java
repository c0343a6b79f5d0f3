package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * The single-token kernels that sum in 16-bit lanes, bit for bit against the scalar references, also on blocks built
 * to push those sums to their limits (all quants at the extreme, inputs whose quants are all +-127), with row ranges
 * split across threads at arbitrary boundaries:
 * <ul>
 *   <li>the 8-row Q4_0 kernel ({@link Q4_0RowGroups}) on matrices of 8k rows, where llama.cpp runs the repacked
 *       gemv, also against an independent transcription of ggml's repacked order;</li>
 *   <li>the Q8_0 and Q4_1 single-row kernels (ggml's vec_dot lanes), at every SIMD width.</li>
 * </ul>
 */
class DecodeKernelExactnessProperties {
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    @Provide
    Arbitrary<VectorWidth> wideWidths() {
        return Arbitraries.of(VectorWidth.W256, VectorWidth.W512);
    }

    @Property(tries = 150)
    void eightRowDecodeGivesTheScalarBits(@ForAll("wideWidths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 6) int groups, @ForAll @IntRange(min = 1, max = 24) int blocks,
            @ForAll @IntRange(min = 0, max = 3) int nibbleMode, @ForAll @IntRange(min = 0, max = 2) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int rows = 8 * groups;
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.q4_0Tensor(rows, cols, nibbleMode, misalign, rnd, arena);
            long[] dims = {cols, rows};
            WeightMatrix simd = WeightMatrix.of("w", GgmlType.Q4_0, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", GgmlType.Q4_0, dims, t, VectorWidth.SCALAR);
            float[] x = TestTensors.q8Input(cols, inputMode, rnd);
            float[] expected = new float[rows];
            float[] actual = new float[rows];
            scalar.matvec(x, 0, expected, 0, SERIAL);
            simd.matvec(x, 0, actual, 0, threaded ? POOL : SERIAL);
            QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_0);
            in.quantize(x, 0, 1, cols);
            for (int r = 0; r < rows; r++) {
                float ggml = LegacyQuantExactnessProperties.ggmlAvx2Dot(GgmlType.Q4_0, t, r, cols, in, true);
                String where = width + " row " + r + " of " + rows + ", " + cols + " columns";
                assertEquals(Float.floatToRawIntBits(ggml), Float.floatToRawIntBits(expected[r]),
                        where + ": ggml " + ggml + " scalar " + expected[r]);
                assertEquals(Float.floatToRawIntBits(expected[r]), Float.floatToRawIntBits(actual[r]),
                        where + ": scalar " + expected[r] + " simd " + actual[r]);
            }
        }
    }

    @Provide
    Arbitrary<VectorWidth> simdWidths() {
        return Arbitraries.of(VectorWidth.W128, VectorWidth.W256, VectorWidth.W512);
    }

    @Provide
    Arbitrary<GgmlType> pairSumFormats() {
        return Arbitraries.of(GgmlType.Q8_0, GgmlType.Q4_1);
    }

    @Property(tries = 200)
    void singleRowDecodeGivesTheScalarBits(@ForAll("pairSumFormats") GgmlType type,
            @ForAll("simdWidths") VectorWidth width, @ForAll @IntRange(min = 1, max = 21) int rows,
            @ForAll @IntRange(min = 1, max = 24) int blocks, @ForAll @IntRange(min = 0, max = 3) int quantMode,
            @ForAll @IntRange(min = 0, max = 2) int inputMode, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 32 * blocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = extremeTensor(type, rows, cols, quantMode, misalign, rnd, arena);
            long[] dims = {cols, rows};
            WeightMatrix simd = WeightMatrix.of("w", type, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
            float[] x = TestTensors.q8Input(cols, inputMode, rnd);
            float[] expected = new float[rows];
            float[] actual = new float[rows];
            scalar.matvec(x, 0, expected, 0, SERIAL);
            simd.matvec(x, 0, actual, 0, threaded ? POOL : SERIAL);
            for (int r = 0; r < rows; r++) {
                assertEquals(Float.floatToRawIntBits(expected[r]), Float.floatToRawIntBits(actual[r]),
                        type + " " + width + " row " + r + " of " + rows + ", " + cols + " columns: scalar "
                                + expected[r] + " simd " + actual[r]);
            }
        }
    }

    /**
     * Q8_0 or Q4_1 blocks with random fp16 scales (and minimums); quant bytes random (mode 0), all at the largest
     * magnitude (1: -128 for Q8_0, nibbles 15 for Q4_1), all at the other end (2: 127, nibbles 0), or each block one
     * of the two at random (3).
     */
    private static MemorySegment extremeTensor(GgmlType type, int rows, int cols, int quantMode, int misalign,
            Random rnd, Arena arena) {
        boolean q8 = type == GgmlType.Q8_0;
        int blockBytes = q8 ? 34 : 20;
        int quantAt = q8 ? 2 : 4;
        int quantBytes = q8 ? 32 : 16;
        long bytes = (long) rows * cols / 32 * blockBytes;
        MemorySegment whole = arena.allocate(bytes + misalign + 64, 64);
        MemorySegment t = whole.asSlice(misalign, bytes);
        int largest = q8 ? 0x80 : 0xFF;
        int other = q8 ? 0x7F : 0x00;
        for (long bo = 0; bo < bytes; bo += blockBytes) {
            for (int h = 0; h < quantAt; h += 2) {
                float magnitude = (float) Math.exp(rnd.nextDouble(Math.log(1e-4), Math.log(5e-2)));
                t.set(HALF, bo + h, Float.floatToFloat16(rnd.nextBoolean() ? magnitude : -magnitude));
            }
            int fill = switch (quantMode) {
                case 1 -> largest;
                case 2 -> other;
                case 3 -> rnd.nextBoolean() ? largest : other;
                default -> -1;
            };
            for (int j = 0; j < quantBytes; j++) {
                t.set(ValueLayout.JAVA_BYTE, bo + quantAt + j, (byte) (fill < 0 ? rnd.nextInt(256) : fill));
            }
        }
        return t;
    }

}
