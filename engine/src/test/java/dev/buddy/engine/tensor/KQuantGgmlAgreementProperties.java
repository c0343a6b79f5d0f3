package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.buddy.engine.reference.GgmlKQuantKernels;
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
 * Buddy's K-quant products against ggml-cpu's machine code (the bundled llama.cpp b4916 library, called through
 * {@link GgmlKQuantKernels}): for random blocks and activations, every row's result must be the float ggml's AVX2
 * {@code ggml_vec_dot_*_q8_K} returns, bit for bit, at every vector width, and Buddy's Q8_K activation must be
 * {@code quantize_row_q8_K}'s bytes.
 */
class KQuantGgmlAgreementProperties {
    private static final ValueLayout.OfFloat FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final Parallel SERIAL = new Parallel(1);

    @AfterContainer
    static void closePool() {
        SERIAL.close();
    }

    @Provide
    Arbitrary<GgmlType> kQuants() {
        return Arbitraries.of(GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);
    }

    @Provide
    Arbitrary<VectorWidth> widths() {
        return Arbitraries.of(VectorWidth.available());
    }

    @Property(tries = 120)
    void rowsMatchGgmlsVecDot(@ForAll("kQuants") GgmlType type, @ForAll("widths") VectorWidth width,
            @ForAll @IntRange(min = 1, max = 9) int rows, @ForAll @IntRange(min = 1, max = 6) int tokens,
            @ForAll boolean codecQuantised, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 256 * (1 + rnd.nextInt(8));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment t = TestTensors.tensor(codecQuantised, type, rows, cols, rnd.nextInt(8), rnd, arena);
            WeightMatrix m = WeightMatrix.of("w", type, new long[] {cols, rows}, t, width);
            float[] x = TestTensors.randomInput(tokens * cols, rnd);
            float[] out = new float[tokens * rows];
            m.matmul(x, tokens, out, SERIAL);
            long rowBytes = type.byteSize(cols);
            for (int tok = 0; tok < tokens; tok++) {
                MemorySegment q8k = GgmlKQuantKernels.quantizeQ8K(x, tok * cols, cols, arena);
                for (int r = 0; r < rows; r++) {
                    MemorySegment row = arena.allocate(rowBytes, 64);
                    MemorySegment.copy(t, r * rowBytes, row, 0, rowBytes);
                    float expected = GgmlKQuantKernels.dot(type.name(), cols, row, q8k, arena);
                    float actual = out[tok * rows + r];
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                            type + " " + width + " row " + r + " token " + tok + " of " + cols + " columns: ggml "
                                    + expected + ", Buddy " + actual);
                }
            }
        }
    }

    @Property(tries = 100)
    void q8KInputIsGgmlsQuantisation(@ForAll @IntRange(min = 1, max = 4) int blocks, @ForAll long seed) {
        Random rnd = new Random(seed);
        int n = 256 * blocks;
        float[] x = TestTensors.randomInput(n, rnd);
        QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_K);
        in.quantize(x, 0, 1, n);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ref = GgmlKQuantKernels.quantizeQ8K(x, 0, n, arena);
            for (int b = 0; b < blocks; b++) {
                long bo = (long) b * GgmlKQuantKernels.Q8_K_BLOCK_BYTES;
                assertEquals(Float.floatToRawIntBits(ref.get(FLOAT, bo)), Float.floatToRawIntBits(in.d[b]),
                        "d of block " + b);
                for (int j = 0; j < 256; j++) {
                    assertEquals(ref.get(ValueLayout.JAVA_BYTE, bo + 4 + j), in.qs[b * 256 + j], "quant " + j);
                }
                if (in.d[b] != 0f) { // ggml leaves the sums of an all-zero block unwritten
                    for (int g = 0; g < 16; g++) {
                        assertEquals(ref.get(SHORT, bo + 260 + 2L * g), in.bsums[b * 16 + g], "bsum " + g);
                    }
                }
            }
        }
    }
}
