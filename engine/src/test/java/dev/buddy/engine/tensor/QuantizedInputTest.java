package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The activation conversions: what llama.cpp's {@code quantize_row_q8_0/q8_1/q8_K} and fp16/bf16 {@code from_float}
 * guarantee, checked on random inputs (the bit-exact rounding rules themselves are documented on the class).
 */
class QuantizedInputTest {

    @Property(tries = 200)
    void q8BlocksReconstructTheInputWithinHalfAStep(@ForAll @IntRange(min = 1, max = 4) int tokens,
            @ForAll @IntRange(min = 1, max = 8) int blocks, @ForAll boolean withSums, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 32 * blocks;
        float[] x = TestTensors.randomInput(tokens * cols + 5, rnd);
        QuantizedInput in = new QuantizedInput(withSums ? ActivationFormat.Q8_1 : ActivationFormat.Q8_0);
        in.quantize(x, 5, tokens, cols);
        assertEquals(tokens, in.tokens());
        assertEquals(cols, in.cols());
        for (int b = 0; b < tokens * blocks; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[5 + b * 32 + j]));
            }
            float d = in.d[b];
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(amax / 127f)), d, "block scale is fp16(amax/127)");
            int maxQuant = 0;
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                int q = in.qs[b * 32 + j];
                maxQuant = Math.max(maxQuant, Math.abs(q));
                sum += q;
                // q was rounded from x*127/amax; d is amax/127 rounded to fp16: relative error <= 2^-11, or an
                // absolute 2^-25 once d falls into fp16's subnormal range (tiny activations)
                double error = Math.abs(q * (double) d - x[5 + b * 32 + j]);
                assertTrue(error <= 0.5 * (1 + 1e-4) * amax / 127 + amax * 0x1p-11 + 127 * 0x1p-25,
                        "element " + j + " of block " + b + " off by " + error);
            }
            assertEquals(amax == 0 ? 0 : 127, maxQuant, "the largest element maps to +-127");
            if (withSums) {
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(amax / 127f * sum)), in.s[b]);
            }
        }
    }

    @Property(tries = 200)
    void q8kBlocksUseTheSignedMaximumAndKeepSums(@ForAll @IntRange(min = 1, max = 3) int tokens,
            @ForAll @IntRange(min = 1, max = 3) int blocks, @ForAll long seed) {
        Random rnd = new Random(seed);
        int cols = 256 * blocks;
        float[] x = TestTensors.randomInput(tokens * cols, rnd);
        QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_K);
        in.quantize(x, 0, tokens, cols);
        for (int b = 0; b < tokens * blocks; b++) {
            float amax = 0;
            float max = 0;
            for (int j = 0; j < 256; j++) {
                if (Math.abs(x[b * 256 + j]) > amax) {
                    amax = Math.abs(x[b * 256 + j]);
                    max = x[b * 256 + j];
                }
            }
            float d = in.d[b];
            if (amax == 0) {
                assertEquals(0f, d);
            } else {
                assertEquals(1f / (-127f / max), d, "d = 1/iscale with iscale = -127/max");
            }
            for (int g = 0; g < 16; g++) {
                int sum = 0;
                for (int j = 0; j < 16; j++) {
                    int q = in.qs[b * 256 + g * 16 + j];
                    assertTrue(q >= -128 && q <= 127);
                    sum += q;
                    double error = Math.abs(q * (double) d - x[b * 256 + g * 16 + j]);
                    assertTrue(error <= 0.5 * Math.abs(d) * (1 + 1e-4) + 1e-30, "off by " + error);
                }
                assertEquals(sum, in.bsums[b * 16 + g], "bsum of group " + g);
            }
        }
    }

    @Property(tries = 100)
    void halfFormatsRoundToTheNearestRepresentable(@ForAll long seed) {
        Random rnd = new Random(seed);
        float[] x = TestTensors.randomInput(100, rnd);
        QuantizedInput f16 = new QuantizedInput(ActivationFormat.F16);
        QuantizedInput bf16 = new QuantizedInput(ActivationFormat.BF16);
        f16.quantize(x, 3, 1, 97);
        bf16.quantize(x, 3, 1, 97);
        for (int i = 0; i < 97; i++) {
            float v = x[3 + i];
            float h = f16.values[f16.valuesOffset + i];
            assertEquals(h, Float.float16ToFloat(Float.floatToFloat16(h)), "fp16 value");
            assertTrue(Math.abs(h - v) <= Math.abs(v) * 0x1p-11 + 0x1p-25, "fp16 rounding of " + v);
            float b = bf16.values[bf16.valuesOffset + i];
            assertEquals(0, Float.floatToRawIntBits(b) & 0xFFFF, "bf16 value");
            assertTrue(Math.abs(b - v) <= Math.abs(v) * 0x1p-8, "bf16 rounding of " + v);
        }
    }

    @Test
    void bf16RoundsTiesToEven() {
        // 1 + 2^-8 lies halfway between the bf16 neighbours 1 and 1 + 2^-7: ties go to the even mantissa (1)
        assertEquals(1f, Halfs.roundToBf16(1f + 0x1p-8f));
        // 1 + 3*2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even)
        assertEquals(1f + 0x1p-6f, Halfs.roundToBf16(1f + 3 * 0x1p-8f));
        assertTrue(Float.isNaN(Halfs.roundToBf16(Float.NaN)));
    }

    @Test
    void f32InputIsReferencedNotCopied() {
        float[] x = new float[70];
        QuantizedInput in = new QuantizedInput(ActivationFormat.F32);
        in.quantize(x, 6, 2, 32);
        assertSame(x, in.values);
        assertEquals(6, in.valuesOffset);
    }

    @Test
    void quantisationBreaksTiesToEvenAsTheAvx2Path() {
        // amax = 127 makes the multiplier exactly 1, so x = 0.5 and 2.5 are exact ties: _mm256_round_ps rounds
        // them to 0 and 2 (nearest even), where roundf would give 1 and 3
        float[] x = new float[32];
        x[0] = 127f;
        x[1] = 0.5f;
        x[2] = 2.5f;
        x[3] = -1.5f;
        QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_0);
        in.quantize(x, 0, 1, 32);
        assertEquals(127, in.qs[0]);
        assertEquals(0, in.qs[1]);
        assertEquals(2, in.qs[2]);
        assertEquals(-2, in.qs[3]);
    }

    @Test
    void rejectsShapesTheFormatCannotHold() {
        QuantizedInput q8 = new QuantizedInput(ActivationFormat.Q8_0);
        assertThrows(IllegalArgumentException.class, () -> q8.quantize(new float[40], 0, 1, 40));
        QuantizedInput q8k = new QuantizedInput(ActivationFormat.Q8_K);
        assertThrows(IllegalArgumentException.class, () -> q8k.quantize(new float[288], 0, 1, 288));
        assertThrows(IndexOutOfBoundsException.class, () -> q8.quantize(new float[64], 1, 2, 32));
        assertThrows(IllegalArgumentException.class, () -> q8.quantize(new float[64], 0, 0, 32));
    }

    @Test
    void reusesItsBuffersAcrossCalls() {
        QuantizedInput in = new QuantizedInput(ActivationFormat.Q8_K);
        in.quantize(new float[512], 0, 2, 256);
        short[] quants = in.qs;
        in.quantize(new float[256], 0, 1, 256);
        assertSame(quants, in.qs);
    }
}
