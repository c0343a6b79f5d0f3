package dev.buddy.engine.model;

import java.util.Arrays;

/**
 * Everything that decides the rotation angles, read from GGUF: with {@code n = dimensions}, pair i of a head at
 * position p turns by {@code p * freqBase^(-2i/n) / freqFactors[i] * freqScale} (before YaRN's blend).
 *
 * @param style           which dimensions form a pair
 * @param dimensions      {@code <arch>.rope.dimension_count}: how many leading dimensions of each head rotate
 * @param freqBase        {@code <arch>.rope.freq_base}
 * @param freqScale       1 / {@code <arch>.rope.scaling.factor} for linear and YaRN scaling, else 1
 * @param freqFactors     the {@code rope_freqs.weight} tensor (Llama 3.1 style per-pair divisors), or null
 * @param yarn            YaRN parameters when {@code <arch>.rope.scaling.type} is "yarn", else null
 */
public record RopeConfig(RopeStyle style, int dimensions, float freqBase, float freqScale, float[] freqFactors,
        Yarn yarn) {

    /**
     * YaRN as llama.cpp applies it: {@code extFactor} blends interpolated and extrapolated angles between correction
     * dimensions derived from {@code originalContextLength}, {@code betaFast} and {@code betaSlow}, and the
     * magnitude is scaled by {@code attnFactor * (1 + 0.1 ln(1/freqScale))}.
     */
    public record Yarn(int originalContextLength, float extFactor, float attnFactor, float betaFast, float betaSlow) {}

    public RopeConfig {
        if (dimensions <= 0 || dimensions % 2 != 0) {
            throw new ModelLoadException("rope.dimension_count must be a positive even number, got " + dimensions);
        }
        if (!(freqBase > 0f)) {
            throw new ModelLoadException("rope.freq_base must be positive, got " + freqBase);
        }
        if (!(freqScale > 0f)) {
            throw new ModelLoadException("rope frequency scale must be positive, got " + freqScale);
        }
        if (freqFactors != null && freqFactors.length != dimensions / 2) {
            throw new ModelLoadException("rope_freqs.weight has " + freqFactors.length + " factors, expected "
                    + dimensions / 2 + " (rope.dimension_count / 2)");
        }
        freqFactors = freqFactors == null ? null : freqFactors.clone();
    }

    @Override
    public float[] freqFactors() {
        return freqFactors == null ? null : freqFactors.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RopeConfig r && r.style == style && r.dimensions == dimensions
                && Float.compare(r.freqBase, freqBase) == 0 && Float.compare(r.freqScale, freqScale) == 0
                && Arrays.equals(r.freqFactors, freqFactors) && java.util.Objects.equals(r.yarn, yarn);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(style, dimensions, freqBase, freqScale, Arrays.hashCode(freqFactors), yarn);
    }

    @Override
    public String toString() {
        return "RopeConfig[" + style + ", dims " + dimensions + ", base " + freqBase + ", scale " + freqScale
                + (freqFactors != null ? ", " + freqFactors.length + " freq factors" : "")
                + (yarn != null ? ", " + yarn : "") + "]";
    }
}
