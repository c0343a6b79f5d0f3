package dev.buddy.cli.bench;

/**
 * One llama-bench test: prompt processing of {@code tokens} tokens ({@code pp512}) or generation of {@code tokens}
 * tokens one at a time ({@code tg128}), both from an empty KV cache.
 *
 * @param kind what is measured
 * @param tokens tokens per run
 * @param threads worker threads
 */
record BenchTest(Kind kind, int tokens, int threads) {
    enum Kind {
        PROMPT("pp"),
        GENERATION("tg");

        final String prefix;

        Kind(String prefix) {
            this.prefix = prefix;
        }
    }

    BenchTest {
        if (tokens < 1 || threads < 1) {
            throw new IllegalArgumentException("a test needs tokens and threads, got " + tokens + ", " + threads);
        }
    }

    /** llama-bench's name for the test, e.g. {@code pp512}. */
    String name() {
        return kind.prefix + tokens;
    }
}
