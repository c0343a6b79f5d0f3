package dev.buddy.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;

class RopeProperties {

    /**
     * The textbook rotation in double precision: pair i turns by p·base^(-2i/n)·scale/ff[i]; NORMAL pairs
     * (2i, 2i+1), NEOX pairs (i, i+n/2); dimensions past n are untouched.
     */
    private static double[] direct(float[] x, RopeStyle style, int n, double base, double scale, float[] ff, int p) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i];
        }
        for (int i = 0; i < n / 2; i++) {
            double angle = p * Math.pow(base, -2.0 * i / n) * scale / (ff == null ? 1 : ff[i]);
            int a = style == RopeStyle.NORMAL ? 2 * i : i;
            int b = style == RopeStyle.NORMAL ? 2 * i + 1 : i + n / 2;
            out[a] = x[a] * Math.cos(angle) - x[b] * Math.sin(angle);
            out[b] = x[a] * Math.sin(angle) + x[b] * Math.cos(angle);
        }
        return out;
    }

    @Property(tries = 300)
    void rotationMatchesDirectFormula(@ForAll long seed, @ForAll boolean neox, @ForAll @IntRange(min = 1, max = 64) int halfDims,
            @ForAll @IntRange(min = 0, max = 16) int extraDims, @ForAll @IntRange(min = 0, max = 2048) int position,
            @ForAll @FloatRange(min = 100f, max = 1e6f) float base, @ForAll boolean scaled, @ForAll boolean factors) {
        Random r = new Random(seed);
        int n = 2 * halfDims;
        int headDim = n + 2 * extraDims;
        float[] ff = null;
        if (factors) {
            ff = new float[halfDims];
            for (int i = 0; i < halfDims; i++) {
                ff[i] = 1f + r.nextFloat() * 7f; // Llama 3.1's factors range from 1 to 8
            }
        }
        float freqScale = scaled ? 0.25f : 1f;
        RopeStyle style = neox ? RopeStyle.NEOX : RopeStyle.NORMAL;
        Rope rope = new Rope(new RopeConfig(style, n, base, freqScale, ff, null));
        float[] x = new float[headDim + 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        float[] head = new float[headDim];
        System.arraycopy(x, 3, head, 0, headDim);
        double[] expected = direct(head, style, n, base, freqScale, ff, position);

        float[] cos = new float[halfDims + 1];
        float[] sin = new float[halfDims + 1];
        rope.angles(position, cos, sin, 1);
        rope.rotate(x, 3, cos, sin, 1);
        // Float angles at positions up to 2048 are off by up to a few ulps of the angle (about 1e-3 rad).
        for (int i = 0; i < headDim; i++) {
            assertEquals(expected[i], x[3 + i], 3e-3 * (1 + Math.abs(expected[i])), "dim " + i);
        }
    }

    @Property(tries = 100)
    void yarnMatchesItsDefinition(@ForAll long seed, @ForAll @IntRange(min = 0, max = 4096) int position,
            @ForAll @FloatRange(min = 2f, max = 8f) float factor) {
        int n = 64;
        int originalContext = 4096;
        float base = 1e6f;
        Rope rope = new Rope(new RopeConfig(RopeStyle.NEOX, n, base, 1f / factor, null,
                new RopeConfig.Yarn(originalContext, 1f, 1f, 32f, 1f)));
        float[] cos = new float[n / 2];
        float[] sin = new float[n / 2];
        rope.angles(position, cos, sin, 0);
        // YaRN (Peng et al.): the correction range [low, high] of dimension pairs is where the wavelength crosses
        // originalContext/beta; pairs below low extrapolate, above high interpolate, and the magnitude is
        // 1 + 0.1 ln(factor).
        double low = Math.max(0, Math.floor(n * Math.log(originalContext / (32 * 2 * Math.PI)) / (2 * Math.log(base))));
        double high = Math.min(n - 1, Math.ceil(n * Math.log(originalContext / (1 * 2 * Math.PI)) / (2 * Math.log(base))));
        double magnitude = 1 + 0.1 * Math.log(factor);
        for (int i = 0; i < n / 2; i++) {
            double extrapolated = position * Math.pow(base, -2.0 * i / n);
            double interpolated = extrapolated / factor;
            double y = (i - low) / Math.max(0.001, high - low);
            double mix = 1 - Math.min(1, Math.max(0, y));
            double angle = interpolated * (1 - mix) + extrapolated * mix;
            assertEquals(Math.cos(angle) * magnitude, cos[i], 3e-3, "cos pair " + i);
            assertEquals(Math.sin(angle) * magnitude, sin[i], 3e-3, "sin pair " + i);
        }
    }
}
