package dev.buddy.bench;

/** Thread counts as benchmark parameters: a number, or {@code max} for every available processor. */
final class ThreadCount {
    private ThreadCount() {}

    static int parse(String value) {
        if (value.equals("max")) {
            return Runtime.getRuntime().availableProcessors();
        }
        int n = Integer.parseInt(value);
        if (n < 1) {
            throw new IllegalArgumentException("thread count must be at least 1, got " + value);
        }
        return n;
    }
}
