package dev.buddy.router;

import java.util.Optional;
import java.util.SplittableRandom;

/** Seeded random routers and feature streams for the pure-router properties. */
final class TestRouters {
    static final String FINGERPRINT = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private TestRouters() {}

    /** A router with random weights, a random non-zero prior and ω, and optionally a predictor. */
    static DynamicRouter router(int layerCount, int featureDim, long seed, Pooling pooling, boolean predictor) {
        SplittableRandom random = new SplittableRandom(seed);
        int middle = layerCount - 2;
        float[] prior = new float[middle];
        for (int i = 0; i < middle; i++) {
            prior[i] = (float) random.nextGaussian();
        }
        float omega = (float) random.nextDouble(0, 1);
        DecisionModule dm = new DecisionModule(layerCount, RandomRouter.randomMlp(random, featureDim, 32, middle),
                prior, omega, FeatureSource.VALUE, pooling);
        Optional<BudgetPredictor> bp = predictor
                ? Optional.of(new BudgetPredictor(layerCount, RandomRouter.randomMlp(random, featureDim, 16, middle)))
                : Optional.empty();
        return new DynamicRouter("test-router", dm, bp,
                new Provenance(FINGERPRINT, "llama", true, new float[] {0.5f, 0.75f, 1f}, "buddy", "taylor"));
    }

    /** n feature vectors; a per-stream drift makes later tokens differ systematically from earlier ones. */
    static float[][] features(int n, int featureDim, long seed) {
        SplittableRandom random = new SplittableRandom(seed ^ 0x5DEECE66DL);
        float[] drift = new float[featureDim];
        for (int i = 0; i < featureDim; i++) {
            drift[i] = (float) random.nextGaussian() * 0.2f;
        }
        float[][] f = new float[n][featureDim];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < featureDim; i++) {
                f[t][i] = (float) (random.nextGaussian() * 2 + drift[i] * t);
            }
        }
        return f;
    }

    static int countMiddle(boolean[] mask) {
        int k = 0;
        for (int b = 1; b < mask.length - 1; b++) {
            k += mask[b] ? 1 : 0;
        }
        return k;
    }

    static boolean[] mask(RoutingSession session) {
        boolean[] m = new boolean[session.layerCount()];
        session.copyMaskTo(m);
        return m;
    }

    /** A layer-0 "cache" backed by arrays; keys and values differ so a wrong feature source is visible. */
    record ArrayCache(float[][] keys, float[][] values) implements Layer0Features {
        @Override
        public void key(int position, float[] dst, int offset) {
            System.arraycopy(keys[position], 0, dst, offset, keys[position].length);
        }

        @Override
        public void value(int position, float[] dst, int offset) {
            System.arraycopy(values[position], 0, dst, offset, values[position].length);
        }
    }
}
