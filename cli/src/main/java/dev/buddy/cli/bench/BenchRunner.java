package dev.buddy.cli.bench;

import java.util.SplittableRandom;

/**
 * Runs one test the way llama-bench does, untimed warm-up first, then {@code repetitions} timed runs, each from an
 * empty KV cache, on random token ids drawn from a fixed seed. llama-bench warms up once, which settles a native
 * engine's caches; a JVM engine also waits for C2 to compile its vector kernels, which can outlast one run (a
 * profile of a SmolLM2 tg64 warm-up showed the decode kernels compiled 7-14 s into it on a loaded machine), so the
 * warm-up repeats until two consecutive runs agree within {@value #SETTLED} (at most {@value #MAX_WARM_UPS} runs).
 */
final class BenchRunner {
    /** Relative difference under which two consecutive warm-up runs count as settled. */
    static final double SETTLED = 0.10;
    /** Most warm-up runs, settled or not. */
    static final int MAX_WARM_UPS = 5;

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
        long previous = run(workload, test, tokens);
        for (int warm = 1; warm < MAX_WARM_UPS; warm++) {
            long current = run(workload, test, tokens);
            boolean settled = Math.abs(current - previous) <= SETTLED * previous;
            previous = current;
            if (settled) {
                break;
            }
        }
        workload.timedRunsStart();
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
