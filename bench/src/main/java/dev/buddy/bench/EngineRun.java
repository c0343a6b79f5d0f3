package dev.buddy.bench;

import java.util.List;
import java.util.Map;

/**
 * One engine's figures from one child process: prompt and generation throughput (NaN when not measured) and the
 * child's peak RSS.
 *
 * @param promptTokensPerSecond mean pp t/s
 * @param generationTokensPerSecond mean tg t/s
 * @param peakRssBytes the child's VmHWM, or -1
 */
record EngineRun(double promptTokensPerSecond, double generationTokensPerSecond, long peakRssBytes) {

    /** Reads llama-bench-style JSON (an array of tests with n_prompt, n_gen, avg_ts and peak_rss_bytes). */
    static EngineRun fromBenchJson(String json) {
        Object parsed = MiniJson.parse(json);
        if (!(parsed instanceof List<?> tests) || tests.isEmpty()) {
            throw new IllegalArgumentException("expected a non-empty JSON array of tests, got: " + abbreviate(json));
        }
        double pp = Double.NaN;
        double tg = Double.NaN;
        long rss = -1;
        for (Object o : tests) {
            if (!(o instanceof Map<?, ?> test)) {
                throw new IllegalArgumentException("expected test objects, got: " + abbreviate(json));
            }
            double prompt = number(test, "n_prompt");
            double generated = number(test, "n_gen");
            double rate = number(test, "avg_ts");
            if (prompt > 0) {
                pp = rate;
            } else if (generated > 0) {
                tg = rate;
            }
            rss = Math.max(rss, (long) number(test, "peak_rss_bytes"));
        }
        return new EngineRun(pp, tg, rss);
    }

    private static double number(Map<?, ?> test, String field) {
        if (!(test.get(field) instanceof Double d)) {
            throw new IllegalArgumentException("test has no numeric '" + field + "': " + test);
        }
        return d;
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }
}
