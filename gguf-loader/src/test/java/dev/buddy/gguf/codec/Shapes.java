package dev.buddy.gguf.codec;

import java.util.Random;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Generators of quantiser inputs: whole super-blocks (256 floats, which is also 8 legacy blocks) drawn from the
 * shapes real weights and activations take, plus the degenerate ones quantisers special-case. Magnitudes span 10^-7 to
 * about 10^4 and are clipped to ±30000 so that every scale and min stays inside fp16's range (beyond it ggml stores an
 * infinite scale; {@link CodecContractTest} covers that separately).
 */
final class Shapes {
    static final int SUPER_BLOCK = 256;
    static final float CLIP = 30000f;

    enum Shape {
        GAUSSIAN, UNIFORM, ALL_POSITIVE, ALL_NEGATIVE, ALL_ZERO, CONSTANT, SPARSE, ONE_OUTLIER, TWO_SIDED_EXTREMES,
        SUB_BLOCKS_OF_DIFFERENT_SCALE, OFFSET, SMALL_INTEGERS, HALF_INTEGER_TIES, RAMP
    }

    private Shapes() {}

    /** One to {@code maxSuperBlocks} super-blocks of one random shape and magnitude. */
    static Arbitrary<float[]> superBlocks(int maxSuperBlocks) {
        return Combinators.combine(
                        Arbitraries.of(Shape.class),
                        Arbitraries.doubles().between(-7, 4),
                        Arbitraries.longs(),
                        Arbitraries.integers().between(1, maxSuperBlocks))
                .as((shape, log10Scale, seed, count) -> generate(shape, Math.pow(10, log10Scale), seed, count));
    }

    static float[] generate(Shape shape, double scale, long seed, int superBlocks) {
        Random random = new Random(seed);
        float[] x = new float[superBlocks * SUPER_BLOCK];
        double offset = random.nextGaussian() * scale * 10;
        float constant = (float) (random.nextGaussian() * scale);
        double step = Math.scalb(1.0, Math.getExponent(scale));
        for (int i = 0; i < x.length; i++) {
            double v = switch (shape) {
                case GAUSSIAN -> random.nextGaussian() * scale;
                case UNIFORM -> (random.nextDouble() * 2 - 1) * scale;
                case ALL_POSITIVE -> random.nextDouble() * scale;
                case ALL_NEGATIVE -> -random.nextDouble() * scale;
                case ALL_ZERO -> 0;
                case CONSTANT -> constant;
                case SPARSE -> random.nextDouble() < 0.1 ? random.nextGaussian() * scale : 0;
                case ONE_OUTLIER -> i % SUPER_BLOCK == 37 ? 10 * scale : random.nextGaussian() * scale * 1e-3;
                case TWO_SIDED_EXTREMES -> random.nextDouble() < 0.05
                        ? (random.nextBoolean() ? scale : -scale)
                        : random.nextGaussian() * scale * 0.1;
                case SUB_BLOCKS_OF_DIFFERENT_SCALE -> random.nextGaussian() * scale * Math.pow(10, -((i / 16 * 7919) % 5));
                case OFFSET -> offset + random.nextGaussian() * scale;
                case SMALL_INTEGERS -> random.nextInt(-8, 8);
                case HALF_INTEGER_TIES -> step * random.nextInt(-64, 64) * 0.5;
                case RAMP -> scale * ((i % SUPER_BLOCK) - 128) / 128.0;
            };
            x[i] = (float) Math.max(-CLIP, Math.min(CLIP, v));
        }
        return x;
    }
}
