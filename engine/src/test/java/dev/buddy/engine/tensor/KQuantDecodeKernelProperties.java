package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * The Q4_K and Q5_K single-token kernels, which sum in 16-bit lanes with wrap-around (Q4_K's low nibbles against
 * {@code x_odd - 256 x_even}) and form ggml's min terms from a vector of mins times the 32-quant sums in the same
 * pass, bit for bit against the scalar ggml-order kernels: random blocks and blocks built to push the 16-bit pair
 * sums and the 32-bit scaled sums to their limits (all quants at their largest or 0, every 6-bit scale and min 63,
 * inputs whose quants are all -127 or a mix of +-127), any row count (so that the work splits at arbitrary rows
 * across threads), misaligned row starts, every SIMD width (512 bits emulated where the hardware stops at 256), and
 * token counts that run the single-token kernel, the prompt GEMM ({@link KQuantPromptGemm}, whose min terms are
 * vector ones too), or both.
 */
class KQuantDecodeKernelProperties {
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int Q4_K_BLOCK = 144;

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    @Provide
    Arbitrary<VectorWidth> simdWidths() {
        return TestTensors.simdWidthsWith512();
    }

    @Provide
    Arbitrary<GgmlType> minFormats() {
        return Arbitraries.of(GgmlType.Q4_K, GgmlType.Q5_K);
    }

    @Property(tries = 300)
    void decodeGivesTheScalarBits(@ForAll("minFormats") GgmlType type, @ForAll("simdWidths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 21) int rows,
            @ForAll @IntRange(min = 1, max = 8) int superBlocks, @ForAll @IntRange(min = 1, max = 6) int tokens,
            @ForAll @IntRange(min = 0, max = 4) int blockMode, @ForAll @IntRange(min = 0, max = 2) int inputMode,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 256 * superBlocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = kQuantTensor(type, rows, cols, blockMode, misalign, rnd, arena);
            long[] dims = {cols, rows};
            WeightMatrix simd = WeightMatrix.of("w", type, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
            float[] x = input(tokens * cols, inputMode, rnd);
            float[] expected = new float[tokens * rows];
            float[] actual = new float[tokens * rows];
            scalar.matmul(x, tokens, expected, SERIAL);
            simd.matmul(x, tokens, actual, threaded ? POOL : SERIAL);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                        type + " " + width + " " + rows + "x" + cols + ", " + tokens + " tokens, block mode " + blockMode
                                + ", output " + i + ": scalar " + expected[i] + " simd " + actual[i]);
            }
        }
    }

    /**
     * Q4_K or Q5_K super-blocks with random fp16 d and dmin of either sign; mode 0 random scale and quant bytes, 1
     * every scale and min 63 and every quant at its largest (nibbles 15, Q5_K's fifth bits set: the largest
     * products), 2 scales and mins 63 with quants 0, 3 each super-block one of those two at random, 4 random scale
     * bytes with every quant at its largest. Q5_K's qh[32] sits between the scales and qs[128].
     */
    static MemorySegment kQuantTensor(GgmlType type, int rows, int cols, int blockMode, int misalign,
            Random rnd, Arena arena) {
        int blockBytes = type.bytesPerBlock();
        long bytes = (long) rows * cols / 256 * blockBytes;
        MemorySegment whole = arena.allocate(bytes + misalign + 64, 64);
        MemorySegment t = whole.asSlice(misalign, bytes);
        for (long bo = 0; bo < bytes; bo += blockBytes) {
            for (int h = 0; h < 4; h += 2) {
                float magnitude = (float) Math.exp(rnd.nextDouble(Math.log(1e-4), Math.log(5e-2)));
                t.set(HALF, bo + h, Float.floatToFloat16(rnd.nextBoolean() ? magnitude : -magnitude));
            }
            int mode = blockMode == 3 ? 1 + rnd.nextInt(2) : blockMode;
            for (int j = 0; j < 12; j++) {
                int scaleByte = mode == 1 || mode == 2 ? 0xFF : rnd.nextInt(256);
                t.set(ValueLayout.JAVA_BYTE, bo + 4 + j, (byte) scaleByte);
            }
            // Q4_K: qs[128] from byte 16; Q5_K: qh[32] from byte 16, then qs[128]
            for (long j = bo + 16; j < bo + blockBytes; j++) {
                int quantByte = switch (mode) {
                    case 1, 4 -> 0xFF;
                    case 2 -> 0x00;
                    default -> rnd.nextInt(256);
                };
                t.set(ValueLayout.JAVA_BYTE, j, (byte) quantByte);
            }
        }
        return t;
    }

    /**
     * Random activations (mode 0); or super-blocks of one value each, which Q8_K quantises to all -127 (mode 1);
     * or super-blocks of one magnitude with random signs, quantised to a mix of +127 and -127 (mode 2).
     */
    static float[] input(int n, int inputMode, Random rnd) {
        if (inputMode == 0) {
            return TestTensors.randomInput(n, rnd);
        }
        float[] x = new float[n];
        for (int b = 0; b < n / 256; b++) {
            float v = (float) Math.exp(rnd.nextDouble(Math.log(1e-3), Math.log(30)));
            if (inputMode == 1) {
                Arrays.fill(x, b * 256, b * 256 + 256, rnd.nextBoolean() ? v : -v);
            } else {
                for (int j = b * 256; j < b * 256 + 256; j++) {
                    x[j] = rnd.nextBoolean() ? v : -v;
                }
            }
        }
        return x;
    }
}
