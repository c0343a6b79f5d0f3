package dev.buddy.engine.generate;

/**
 * The outcome of one generation.
 *
 * @param promptTokens      the prompt as fed to the model (BOS included when added)
 * @param tokens            the generated tokens, stop token excluded
 * @param text              the generated text
 * @param stopReason        why generation ended
 * @param promptNanos       time spent processing the prompt (prefill)
 * @param generationNanos   time spent producing the generated tokens after the prompt (decode and sampling)
 */
public record GenerationResult(int[] promptTokens, int[] tokens, String text, StopReason stopReason, long promptNanos,
        long generationNanos) {

    public GenerationResult {
        promptTokens = promptTokens.clone();
        tokens = tokens.clone();
    }

    @Override
    public int[] promptTokens() {
        return promptTokens.clone();
    }

    @Override
    public int[] tokens() {
        return tokens.clone();
    }

    /** Prompt tokens processed per second. */
    public double promptTokensPerSecond() {
        return rate(promptTokens.length, promptNanos);
    }

    /** Generated tokens per second (the first token comes from the prompt's logits and is counted too). */
    public double generationTokensPerSecond() {
        return rate(tokens.length, generationNanos);
    }

    private static double rate(int count, long nanos) {
        return nanos <= 0 ? Double.NaN : count * 1e9 / nanos;
    }
}
