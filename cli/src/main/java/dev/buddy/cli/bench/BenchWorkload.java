package dev.buddy.cli.bench;

/**
 * An engine as llama-bench drives it: timed forward passes from an empty KV cache, no sampling. Implementations time
 * only the engine's work.
 */
interface BenchWorkload extends AutoCloseable {
    /** Vocabulary size, for drawing random tokens. */
    int vocabularySize();

    /** The token a generation run starts from: BOS when the model has one, as llama-bench does. */
    int startToken();

    /** Clears the KV cache and processes {@code tokens} as a prompt (logits of the last token only). */
    long promptNanos(int[] tokens);

    /**
     * Clears the KV cache and decodes {@code first}, then each of {@code next[0 .. count-2]}, one token per forward
     * pass, computing the logits every time; returns the time for the {@code count} passes.
     */
    long generationNanos(int first, int[] next, int count);

    /** Called after the warm-up, right before the timed runs, so that per-run accounting can start there. */
    default void timedRunsStart() {
    }

    @Override
    void close();
}
