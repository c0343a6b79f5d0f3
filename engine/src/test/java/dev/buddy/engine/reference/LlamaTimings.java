package dev.buddy.engine.reference;

/**
 * llama.cpp's own performance counters for one run (read with {@code llama_perf_context}), the figures llama-cli prints
 * as "prompt eval time" and "eval time".
 *
 * <p>llama.cpp counts a {@code llama_decode} of more than one token as prompt evaluation and a single-token decode as
 * evaluation; the time is measured inside llama.cpp from the start of the decode to the synchronisation that makes
 * the logits readable, so no Java overhead is included. A greedy run of n new tokens decodes n - 1 of them (the last
 * one is never fed back), so {@link #evalTokens()} is n - 1, as in llama-cli.
 *
 * @param promptTokens tokens evaluated in multi-token batches (the prompt)
 * @param promptMillis milliseconds spent on them
 * @param evalTokens single-token decodes (generation)
 * @param evalMillis milliseconds spent on them
 */
public record LlamaTimings(int promptTokens, double promptMillis, int evalTokens, double evalMillis) {

    /** Prompt throughput in tokens per second, NaN when no prompt batch was timed. */
    public double promptTokensPerSecond() {
        return rate(promptTokens, promptMillis);
    }

    /** Generation throughput in tokens per second, NaN when no single-token decode was timed. */
    public double evalTokensPerSecond() {
        return rate(evalTokens, evalMillis);
    }

    private static double rate(int tokens, double millis) {
        return tokens > 0 && millis > 0 ? tokens * 1000.0 / millis : Double.NaN;
    }

    @Override
    public String toString() {
        return String.format("prompt eval %.2f ms / %d tokens (%.2f t/s), eval %.2f ms / %d runs (%.2f t/s)",
                promptMillis, promptTokens, promptTokensPerSecond(), evalMillis, evalTokens, evalTokensPerSecond());
    }
}
