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
 * {@link KQuantPromptGemm}, the K-quant prompt path at 256 and 512 bits, bit for bit against the scalar ggml-order
 * kernels: every row and token, with row counts that leave odd rows and partial row blocks, token counts that leave
 * partial 4-token tiles and span several {@value KQuantPromptGemm#TOKEN_BLOCK}-token blocks, odd super-block counts
 * (a slice of one), misaligned row starts, the work split over threads, and blocks built so that one super-block's
 * lane sums reach their limits (Q6_K: quants 0 or 63 with every scale -128, against inputs of all -127 or +-127, sums
 * of up to 2^24 that float must still hold exactly).
 */
class KQuantPromptGemmProperties {
    private static final Parallel SERIAL = new Parallel(1);
    private static final Parallel POOL = new Parallel(3);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @AfterContainer
    static void closePools() {
        SERIAL.close();
        POOL.close();
    }

    @Provide
    Arbitrary<GgmlType> kQuants() {
        return Arbitraries.of(GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
    }

    @Provide
    Arbitrary<VectorWidth> simdWidths() {
        return TestTensors.simdWidthsWith512();
    }

    @Provide
    Arbitrary<Integer> promptTokens() {
        return Arbitraries.oneOf(Arbitraries.integers().between(KQuantPromptGemm.MIN_TOKENS, 13),
                Arbitraries.integers().between(KQuantPromptGemm.TOKEN_BLOCK - 3, 2 * KQuantPromptGemm.TOKEN_BLOCK + 5));
    }

    @Property(tries = 80)
    void promptGivesTheScalarBits(@ForAll("kQuants") GgmlType type, @ForAll("simdWidths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 37) int rows, @ForAll @IntRange(min = 1, max = 5) int superBlocks,
            @ForAll("promptTokens") int tokens, @ForAll @IntRange(min = 0, max = 3) int blockMode,
            @ForAll @IntRange(min = 0, max = 2) int inputMode, @ForAll @IntRange(min = 0, max = 7) int misalign,
            @ForAll boolean threaded, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 256 * superBlocks;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = type == GgmlType.Q6_K
                    ? q6kTensor(rows, cols, blockMode, misalign, rnd, arena)
                    : KQuantDecodeKernelProperties.kQuantTensor(type, rows, cols, blockMode, misalign, rnd, arena);
            long[] dims = {cols, rows};
            WeightMatrix simd = WeightMatrix.of("w", type, dims, t, width);
            WeightMatrix scalar = WeightMatrix.of("w", type, dims, t, VectorWidth.SCALAR);
            float[] x = KQuantDecodeKernelProperties.input(tokens * cols, inputMode, rnd);
            float[] expected = new float[tokens * rows];
            float[] actual = new float[tokens * rows];
            scalar.matmul(x, tokens, expected, SERIAL);
            simd.matmul(x, tokens, actual, threaded ? POOL : SERIAL);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                        type + " " + width + " " + rows + "x" + cols + ", " + tokens + " tokens, block mode "
                                + blockMode + ", input mode " + inputMode + ", row " + i % rows + " token "
                                + i / rows + ": scalar " + expected[i] + " simd " + actual[i]);
            }
        }
    }

    /**
     * Q6_K super-blocks (ql[128], qh[64], int8 scales[16], fp16 d of either sign): mode 0 random bytes, 1 every
     * quant 0 (so -32 after centring) and every scale -128, 2 every quant 63 (+31) and every scale -128, 3 each
     * super-block one of those two at random.
     */
    static MemorySegment q6kTensor(int rows, int cols, int blockMode, int misalign, Random rnd, Arena arena) {
        int blockBytes = GgmlType.Q6_K.bytesPerBlock();
        long bytes = (long) rows * cols / 256 * blockBytes;
        MemorySegment whole = arena.allocate(bytes + misalign + 64, 64);
        MemorySegment t = whole.asSlice(misalign, bytes);
        for (long bo = 0; bo < bytes; bo += blockBytes) {
            int mode = blockMode == 3 ? 1 + rnd.nextInt(2) : blockMode;
            for (int j = 0; j < 192; j++) {
                int quantByte = switch (mode) {
                    case 1 -> 0x00;
                    case 2 -> 0xFF;
                    default -> rnd.nextInt(256);
                };
                t.set(ValueLayout.JAVA_BYTE, bo + j, (byte) quantByte);
            }
            for (int j = 192; j < 208; j++) {
                t.set(ValueLayout.JAVA_BYTE, bo + j, (byte) (mode == 0 ? rnd.nextInt(256) : 0x80));
            }
            float magnitude = (float) Math.exp(rnd.nextDouble(Math.log(1e-4), Math.log(5e-2)));
            t.set(HALF, bo + 208, Float.floatToFloat16(rnd.nextBoolean() ? magnitude : -magnitude));
        }
        return t;
    }
}
