package dev.buddy.engine.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * The vector softmax, SiLU and {@code ggml_v_expf} give the scalar reference's bits in every lane (NaNs compared as
 * NaN), including the lanes that take ggml's slow path (|x| above about 87, where the fast path's scale over- or
 * underflows) next to lanes that do not.
 */
class GgmlVectorMathProperties {

    @Provide
    Arbitrary<Float> anyInput() {
        return Arbitraries.oneOf(
                Arbitraries.floats(), // the whole range, with infinities, NaN, zeros and subnormals as edge cases
                Arbitraries.floats().between(-200f, 200f),
                Arbitraries.floats().between(-90f, -85f),
                Arbitraries.floats().between(85f, 90f),
                Arbitraries.floats().between(-135f, -130f),
                Arbitraries.of(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f,
                        Float.MIN_VALUE, -Float.MIN_VALUE, 88.72284f, -87.33655f, -103.97208f, 133.0f));
    }

    @Property(tries = 2000)
    void expfLanesAreTheScalarPolynomials(@ForAll @Size(8) List<@From("anyInput") Float> inputs) {
        float[] x = new float[8];
        for (int i = 0; i < 8; i++) {
            x[i] = inputs.get(i);
        }
        float[] lanes = GgmlVectorMath.expf(FloatVector.fromArray(FloatVector.SPECIES_256, x, 0)).toArray();
        for (int i = 0; i < 8; i++) {
            assertEquals(Float.floatToIntBits(GgmlMath.expf(x[i])), Float.floatToIntBits(lanes[i]),
                    "expf(" + x[i] + ") in lane " + i + " of " + Arrays.toString(x));
        }
    }

    @Property(tries = 400)
    void softmaxIsTheScalarSoftmax(@ForAll long seed, @ForAll @IntRange(min = 1, max = 150) int n,
            @ForAll @IntRange(min = 0, max = 9) int offset, @ForAll @IntRange(min = 0, max = 3) int kind) {
        Random random = new Random(seed);
        float[] x = new float[offset + n + 5];
        for (int i = 0; i < x.length; i++) {
            x[i] = switch (kind) {
                case 0 -> (float) random.nextGaussian() * 3f;             // typical attention scores
                case 1 -> (float) random.nextGaussian() * 60f;            // wide: many exponentials underflow
                case 2 -> random.nextInt(4) == 0 ? Float.NEGATIVE_INFINITY // masked positions
                        : (float) random.nextGaussian() * 5f;
                default -> random.nextInt(3) - 1f;                        // ties
            };
        }
        x[offset + random.nextInt(n)] = kind == 2 ? 1f : x[offset]; // at least one finite entry in the masked rows
        float[] expected = x.clone();
        GgmlMath.softmaxScalar(expected, offset, n);
        GgmlVectorMath.softmax(x, offset, n);
        assertBitsEqual(expected, x);
    }

    @Property(tries = 300)
    void siluTimesIsTheScalarSiluTimes(@ForAll long seed, @ForAll @IntRange(min = 1, max = 4) int rows,
            @ForAll @IntRange(min = 1, max = 70) int width, @ForAll boolean wide) {
        Random random = new Random(seed);
        float[] gate = new float[rows * width + 3];
        float[] up = new float[gate.length];
        for (int i = 0; i < gate.length; i++) {
            gate[i] = (float) random.nextGaussian() * (wide ? 80f : 4f);
            up[i] = (float) random.nextGaussian();
        }
        float[] expected = gate.clone();
        GgmlMath.siluTimesScalar(expected, up, rows, width);
        GgmlVectorMath.siluTimes(gate, up, rows, width);
        assertBitsEqual(expected, gate);
    }

    private static void assertBitsEqual(float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    "element " + i + ": expected " + expected[i] + " but was " + actual[i]);
        }
    }
}
