package dev.buddy.engine.synth;

/**
 * Llama 3.1/3.2's RoPE frequency scaling ({@code rope_scaling.rope_type = "llama3"} in the Hugging Face config), which
 * llama.cpp's converter bakes into a {@code rope_freqs.weight} tensor of per-frequency divisors.
 *
 * @param factor divisor for the lowest frequencies (32 for Llama 3.2)
 * @param lowFreqFactor wavelengths longer than originalContextLength / lowFreqFactor get the full factor
 * @param highFreqFactor wavelengths shorter than originalContextLength / highFreqFactor stay unscaled
 * @param originalContextLength the pre-training context (8192 for Llama 3)
 */
public record Llama3RopeScaling(float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) {
    public Llama3RopeScaling {
        if (!(factor >= 1) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor) || originalContextLength < 1) {
            throw new IllegalArgumentException("invalid llama3 RoPE scaling: factor " + factor + ", low "
                    + lowFreqFactor + ", high " + highFreqFactor + ", original context " + originalContextLength);
        }
    }

    /** Meta's values for Llama 3.2 1B/3B. */
    public static Llama3RopeScaling llama32() {
        return new Llama3RopeScaling(32f, 1f, 4f, 8192);
    }

    /**
     * The {@code rope_freqs.weight} values for a head of {@code headDim}: one divisor per rotated pair, computed as
     * llama.cpp's {@code convert_hf_to_gguf.py} (LlamaModel.generate_extra_tensors) does.
     */
    public float[] frequencyFactors(int headDim, float ropeFreqBase) {
        float[] factors = new float[headDim / 2];
        double lowFreqWavelength = originalContextLength / (double) lowFreqFactor;
        double highFreqWavelength = originalContextLength / (double) highFreqFactor;
        for (int i = 0; i < factors.length; i++) {
            double frequency = 1.0 / Math.pow(ropeFreqBase, (2.0 * i) / headDim);
            double wavelength = 2 * Math.PI / frequency;
            if (wavelength < highFreqWavelength) {
                factors[i] = 1f;
            } else if (wavelength > lowFreqWavelength) {
                factors[i] = factor;
            } else {
                double smooth = (originalContextLength / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                factors[i] = (float) (1 / ((1 - smooth) / factor + smooth));
            }
        }
        return factors;
    }
}
