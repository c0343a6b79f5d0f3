package dev.buddy.engine.model;

import dev.buddy.engine.tensor.GlibcTrig;

/**
 * Rotary position embedding, computed as ggml's CPU rope does so that angles round the same way: the angle of pair i
 * starts at {@code theta = position} and is multiplied by {@code freqBase^(-2/n)} once per pair, in float; its cosine
 * and sine are glibc's {@code cosf}/{@code sinf} ({@link GlibcTrig}), which ggml calls.
 */
public final class Rope {
    private final RopeStyle style;
    private final int dimensions;
    private final int pairs;
    private final float thetaScale;
    private final float freqScale;
    private final float[] freqFactors;
    private final float extFactor;
    private final float attnFactor;
    private final float correctionLow;
    private final float correctionHigh;

    public Rope(RopeConfig config) {
        this.style = config.style();
        this.dimensions = config.dimensions();
        this.pairs = dimensions / 2;
        this.thetaScale = (float) Math.pow(config.freqBase(), -2.0f / dimensions);
        this.freqScale = config.freqScale();
        this.freqFactors = config.freqFactors();
        RopeConfig.Yarn yarn = config.yarn();
        if (yarn != null) {
            this.extFactor = yarn.extFactor();
            this.attnFactor = yarn.attnFactor();
            this.correctionLow = Math.max(0f, (float) Math.floor(
                    correctionDim(dimensions, yarn.originalContextLength(), yarn.betaFast(), config.freqBase())));
            this.correctionHigh = Math.min(dimensions - 1f, (float) Math.ceil(
                    correctionDim(dimensions, yarn.originalContextLength(), yarn.betaSlow(), config.freqBase())));
        } else {
            this.extFactor = 0f;
            this.attnFactor = 1f;
            this.correctionLow = 0f;
            this.correctionHigh = 0f;
        }
    }

    /** How many leading dimensions of a head rotate. */
    public int dimensions() {
        return dimensions;
    }

    public RopeStyle style() {
        return style;
    }

    /** Writes the cosines and sines of the {@code dimensions/2} angles at {@code position}. */
    public void angles(int position, float[] cos, float[] sin, int offset) {
        float theta = position;
        for (int i = 0; i < pairs; i++) {
            float extrapolated = freqFactors != null ? theta / freqFactors[i] : theta;
            float interpolated = freqScale * extrapolated;
            float angle = interpolated;
            float magnitude = attnFactor;
            if (extFactor != 0f) {
                float rampMix = ramp(2 * i) * extFactor;
                angle = interpolated * (1 - rampMix) + extrapolated * rampMix;
                magnitude *= 1.0f + 0.1f * (float) Math.log(1.0f / freqScale);
            }
            cos[offset + i] = GlibcTrig.cos(angle) * magnitude;
            sin[offset + i] = GlibcTrig.sin(angle) * magnitude;
            theta *= thetaScale;
        }
    }

    /**
     * Rotates one head of {@code x} (starting at {@code offset}) by the angles from {@link #angles}; dimensions past
     * {@link #dimensions()} are left alone.
     */
    public void rotate(float[] x, int offset, float[] cos, float[] sin, int anglesOffset) {
        if (style == RopeStyle.NORMAL) {
            for (int i = 0; i < pairs; i++) {
                float c = cos[anglesOffset + i];
                float s = sin[anglesOffset + i];
                int a = offset + 2 * i;
                float x0 = x[a];
                float x1 = x[a + 1];
                // ggml's x0*cos - x1*sin and x0*sin + x1*cos, with the multiply-adds GCC fused (found by comparing
                // llama.cpp's rotated queries bit for bit).
                x[a] = Math.fma(x0, c, -(x1 * s));
                x[a + 1] = Math.fma(x0, s, x1 * c);
            }
        } else {
            for (int i = 0; i < pairs; i++) {
                float c = cos[anglesOffset + i];
                float s = sin[anglesOffset + i];
                int a = offset + i;
                int b = a + pairs;
                float x0 = x[a];
                float x1 = x[b];
                x[a] = Math.fma(x0, c, -(x1 * s)); // as in the NORMAL case
                x[b] = Math.fma(x0, s, x1 * c);
            }
        }
    }

    /** YaRN's blend weight for the pair starting at dimension i0 (ggml's rope_yarn_ramp; i0/2 is integer division). */
    private float ramp(int i0) {
        float y = ((i0 / 2) - correctionLow) / Math.max(0.001f, correctionHigh - correctionLow);
        return 1 - Math.min(1f, Math.max(0f, y));
    }

    private static float correctionDim(int dims, int originalContext, float rotations, float base) {
        return dims * (float) Math.log(originalContext / (rotations * 2 * (float) Math.PI)) / (2 * (float) Math.log(base));
    }
}
