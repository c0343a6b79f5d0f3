package dev.buddy.engine.synth;

import java.util.SplittableRandom;

/**
 * Reproducible random values for synthetic weights: every row of every tensor has its own random stream, derived from
 * (seed, tensor name, row), so rows can be generated in any order, on any number of threads, and always come out the
 * same. Benchmarks use it too, to build weight matrices of any format without a model file.
 */
public final class RandomRows {
    private RandomRows() {}

    /** The seed of one row's stream. */
    public static long streamSeed(long seed, String tensorName, long row) {
        long h = seed * 0x9E3779B97F4A7C15L + tensorName.hashCode();
        h = mix(h) + row * 0xBF58476D1CE4E5B9L;
        return mix(h);
    }

    /** Writes {@code n} values drawn from N(mean, std²) to {@code dst[offset..]}. */
    public static void gaussian(long streamSeed, double mean, double std, float[] dst, int offset, int n) {
        SplittableRandom random = new SplittableRandom(streamSeed);
        for (int i = 0; i < n; i++) {
            dst[offset + i] = (float) (mean + std * random.nextGaussian());
        }
    }

    /** Stafford's variant 13 of the MurmurHash3 finaliser: spreads nearby seeds far apart. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
