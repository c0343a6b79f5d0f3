package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.codec.BlockCodecs;
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

/**
 * The kernels against the reference block codecs of {@code dev.buddy.gguf.codec} (bit-exact transcriptions of
 * ggml's scalar C): weight dequantisation, and the activation quantisers llama.cpp runs before its dot products.
 */
class CodecAgreementProperties {
    private static final ValueLayout.OfFloat FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @Provide
    Arbitrary<GgmlType> formats() {
        return Arbitraries.of(TestTensors.FORMATS);
    }

    @Property(tries = 150)
    void rowEqualsCodecDequantisation(@ForAll("formats") GgmlType type, @ForAll @IntRange(min = 1, max = 4) int rows,
            @ForAll @IntRange(min = 0, max = 7) int misalign, @ForAll boolean codecQuantised, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = WeightMatrixProperties.randomCols(type, rnd);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment t = TestTensors.tensor(codecQuantised, type, rows, cols, misalign, rnd, arena);
            WeightMatrix m = WeightMatrix.of("w", type, new long[] {cols, rows}, t);
            long rowBytes = type.byteSize(cols);
            for (int r = 0; r < rows; r++) {
                float[] expected = BlockCodecs.dequantize(type, t.asSlice(r * rowBytes, rowBytes), cols);
                float[] actual = new float[cols];
                m.row(r, actual, 0);
                assertArrayEquals(expected, actual, type + " row " + r);
            }
        }
    }

    /** Q8_K input is exactly {@code quantize_row_q8_K_ref}: x86 builds call the reference. */
    @Property(tries = 150)
    void q8kInputIsTheReferenceQuantiser(@ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll long seed) {
        float[] x = TestTensors.randomInput(256 * blocks, new Random(seed));
        QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_K);
        in.quantize(x, 0, 1, x.length);
        MemorySegment ref = MemorySegment.ofArray(BlockCodecs.quantize(GgmlType.Q8_K, x));
        int bpb = GgmlType.Q8_K.bytesPerBlock();
        for (int b = 0; b < blocks; b++) {
            long o = (long) b * bpb;
            assertEquals(ref.get(FLOAT, o), in.d[b], "d of block " + b);
            for (int j = 0; j < 256; j++) {
                assertEquals(ref.get(ValueLayout.JAVA_BYTE, o + 4 + j), in.qs[b * 256 + j], "quant " + j);
            }
            for (int g = 0; g < 16; g++) {
                assertEquals(ref.get(HALF, o + 260 + 2 * g), in.bsums[b * 16 + g], "bsum " + g);
            }
        }
    }

    /**
     * Q8_0/Q8_1 input follows the x86 AVX2 quantiser ({@code 127/amax}, ties to even), the reference uses
     * {@code 1/(amax/127)} and {@code roundf}: same scales, and quants that differ only by one step where the scaled
     * value sits on (or within float rounding of) a half-integer.
     */
    @Property(tries = 150)
    void q8_0InputDiffersFromTheReferenceOnlyAtTies(@ForAll @IntRange(min = 1, max = 8) int blocks,
            @ForAll boolean q8_1, @ForAll long seed) {
        Random rnd = new Random(seed);
        float[] x = TestTensors.randomInput(32 * blocks, rnd);
        // exact ties: a block whose maximum is 127 scales by exactly 1, so x.5 values are ties
        if (rnd.nextBoolean()) {
            x[0] = 127f;
            for (int j = 1; j < 32; j++) {
                x[j] = rnd.nextInt(253) - 126 + 0.5f;
            }
        }
        GgmlType refType = q8_1 ? GgmlType.Q8_1 : GgmlType.Q8_0;
        QuantizedInput in = new QuantizedInput(q8_1 ? ActivationFormat.Q8_1 : ActivationFormat.Q8_0);
        in.quantize(x, 0, 1, x.length);
        MemorySegment ref = MemorySegment.ofArray(BlockCodecs.quantize(refType, x));
        int bpb = refType.bytesPerBlock();
        int qsOffset = q8_1 ? 4 : 2;
        for (int b = 0; b < blocks; b++) {
            long o = (long) b * bpb;
            assertEquals(Float.float16ToFloat(ref.get(HALF, o)), in.d[b], "d of block " + b);
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[b * 32 + j]));
            }
            boolean sameQuants = true;
            for (int j = 0; j < 32; j++) {
                int expected = ref.get(ValueLayout.JAVA_BYTE, o + qsOffset + j);
                int actual = in.qs[b * 32 + j];
                if (expected != actual) {
                    sameQuants = false;
                    double scaled = x[b * 32 + j] * 127.0 / amax;
                    double fromHalf = Math.abs(Math.abs(scaled - Math.floor(scaled)) - 0.5);
                    assertEquals(1, Math.abs(expected - actual), "quant " + j + " of block " + b);
                    assertTrue(fromHalf < 1e-4, "quants differ away from a tie: " + scaled);
                }
            }
            if (q8_1 && sameQuants) {
                assertEquals(Float.float16ToFloat(ref.get(HALF, o + 2)), in.s[b], "s of block " + b);
            }
        }
    }

    @Property(tries = 100)
    void halfInputsAreTheCodecRounding(@ForAll @IntRange(min = 1, max = 200) int n, @ForAll long seed) {
        float[] x = TestTensors.randomInput(n, new Random(seed));
        for (GgmlType type : new GgmlType[] {GgmlType.F16, GgmlType.BF16}) {
            QuantizedInput in = new QuantizedInput(type == GgmlType.F16 ? ActivationFormat.F16 : ActivationFormat.BF16);
            in.quantize(x, 0, 1, n);
            float[] expected = BlockCodecs.dequantize(type,
                    MemorySegment.ofArray(BlockCodecs.quantize(type, x)), n);
            assertArrayEquals(expected, Arrays.copyOf(in.values, n), type.toString());
        }
    }
}
