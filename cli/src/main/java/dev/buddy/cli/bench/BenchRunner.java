package dev.buddy.cli.bench;

import java.util.SplittableRandom;

/**
 * Runs one test the way llama-bench does: an untimed warm-up run first (for the JIT as much as for caches), then
 * {@code repetitions} timed runs, each from an empty KV cache, on random token ids drawn from a fixed seed.
 */
final class BenchRunner {
    private final int repetitions;
    private final SplittableRandom random;

    BenchRunner(int repetitions, long seed) {
        if (repetitions < 1) {
            throw new IllegalArgumentException("repetitions must be at least 1, got " + repetitions);
        }
        this.repetitions = repetitions;
        this.random = new SplittableRandom(seed);
    }

    BenchMeasurement measure(BenchWorkload workload, BenchTest test) {
        int[] tokens = randomTokens(workload.vocabularySize(), test.tokens());
        run(workload, test, tokens); // warm-up
        long[] samples = new long[repetitions];
        for (int r = 0; r < repetitions; r++) {
            samples[r] = run(workload, test, tokens);
        }
        return new BenchMeasurement(test, samples);
    }

    private static long run(BenchWorkload workload, BenchTest test, int[] tokens) {
        return switch (test.kind()) {
            case PROMPT -> workload.promptNanos(tokens);
            case GENERATION -> workload.generationNanos(workload.startToken(), tokens, test.tokens());
        };
    }

    private int[] randomTokens(int vocabularySize, int count) {
        int[] tokens = new int[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = random.nextInt(vocabularySize);
        }
        return tokens;
    }
}
