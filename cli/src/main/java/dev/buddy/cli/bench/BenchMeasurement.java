package dev.buddy.cli.bench;

import java.util.Arrays;

/**
 * The timed repetitions of one test, with llama-bench's statistics: tokens per second of each repetition, their
 * mean, and their sample standard deviation (n - 1).
 */
record BenchMeasurement(BenchTest test, long[] samplesNs) {
    BenchMeasurement {
        samplesNs = samplesNs.clone();
        if (samplesNs.length == 0) {
            throw new IllegalArgumentException("a measurement needs at least one repetition");
        }
    }

    @Override
    public long[] samplesNs() {
        return samplesNs.clone();
    }

    double[] samplesTokensPerSecond() {
        return Arrays.stream(samplesNs).mapToDouble(ns -> test.tokens() * 1e9 / ns).toArray();
    }

    double averageTokensPerSecond() {
        return mean(samplesTokensPerSecond());
    }

    double stddevTokensPerSecond() {
        return stddev(samplesTokensPerSecond());
    }

    double averageNs() {
        return mean(Arrays.stream(samplesNs).asDoubleStream().toArray());
    }

    double stddevNs() {
        return stddev(Arrays.stream(samplesNs).asDoubleStream().toArray());
    }

    static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    /** Sample standard deviation; 0 for a single value, as llama-bench prints it. */
    static double stddev(double[] values) {
        if (values.length < 2) {
            return 0;
        }
        double m = mean(values);
        double squares = 0;
        for (double v : values) {
            squares += (v - m) * (v - m);
        }
        return Math.sqrt(squares / (values.length - 1));
    }
}
