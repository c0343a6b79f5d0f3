package dev.buddy.engine.sampling;

/**
 * How the next token is chosen from the logits. The filters run in llama.cpp's default order: repetition penalty,
 * top-k, top-p, min-p, then temperature and a draw.
 *
 * @param temperature       0 means greedy (argmax after the repetition penalty); otherwise logits are divided by it
 * @param topK              keep the k most likely tokens; 0 keeps all
 * @param topP              keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all
 * @param minP              drop tokens less likely than minP times the most likely one; 0 keeps all
 * @param repetitionPenalty divide positive (multiply negative) logits of recently seen tokens; 1 disables
 * @param repetitionWindow  how many of the most recent tokens the penalty looks at
 * @param seed              seed of the random draw; the same seed and inputs give the same tokens
 */
public record SamplerConfig(float temperature, int topK, float topP, float minP, float repetitionPenalty,
        int repetitionWindow, long seed) {

    public SamplerConfig {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top-k must be >= 0 (0 disables it), got " + topK);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0f && minP <= 1f)) {
            throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
        }
        if (!(repetitionPenalty > 0f) || Float.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetition penalty must be a finite number > 0, got "
                    + repetitionPenalty);
        }
        if (repetitionWindow < 0) {
            throw new IllegalArgumentException("repetition window must be >= 0, got " + repetitionWindow);
        }
    }

    /** Always the most likely token. */
    public static SamplerConfig greedy() {
        return new SamplerConfig(0f, 0, 1f, 0f, 1f, 64, 0L);
    }

    /** llama.cpp's defaults: temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no repetition penalty. */
    public static SamplerConfig defaults(long seed) {
        return new SamplerConfig(0.8f, 40, 0.95f, 0.05f, 1f, 64, seed);
    }

    public boolean isGreedy() {
        return temperature == 0f;
    }

    public SamplerConfig withTemperature(float t) {
        return new SamplerConfig(t, topK, topP, minP, repetitionPenalty, repetitionWindow, seed);
    }

    public SamplerConfig withTopK(int k) {
        return new SamplerConfig(temperature, k, topP, minP, repetitionPenalty, repetitionWindow, seed);
    }

    public SamplerConfig withTopP(float p) {
        return new SamplerConfig(temperature, topK, p, minP, repetitionPenalty, repetitionWindow, seed);
    }

    public SamplerConfig withMinP(float p) {
        return new SamplerConfig(temperature, topK, topP, p, repetitionPenalty, repetitionWindow, seed);
    }

    public SamplerConfig withRepetitionPenalty(float penalty, int window) {
        return new SamplerConfig(temperature, topK, topP, minP, penalty, window, seed);
    }

    public SamplerConfig withSeed(long s) {
        return new SamplerConfig(temperature, topK, topP, minP, repetitionPenalty, repetitionWindow, s);
    }
}
