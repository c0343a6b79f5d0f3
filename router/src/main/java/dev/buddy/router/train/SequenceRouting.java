package dev.buddy.router.train;

import java.util.Arrays;

import dev.buddy.router.DecisionModule;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;

/**
 * How a whole sequence is routed for evaluation: one mask from the layer-0 features of all its positions, as the
 * engine routes a prefill chunk and as training routes an example.
 */
public interface SequenceRouting {
    /** Which layer-0 rows to read; ignored by routings that do not look at the input. */
    FeatureSource featureSource();

    /**
     * The block mask for a sequence.
     *
     * @param features {@code n × featureDim} layer-0 rows
     * @param k        middle blocks to run
     */
    boolean[] mask(float[] features, int n, int featureDim, int k);

    /** A trained or random BUDDY router. */
    static SequenceRouting of(DynamicRouter router) {
        DecisionModule module = router.decision();
        return new SequenceRouting() {
            @Override
            public FeatureSource featureSource() {
                return module.featureSource();
            }

            @Override
            public boolean[] mask(float[] features, int n, int featureDim, int k) {
                float[][] rows = new float[n][];
                for (int t = 0; t < n; t++) {
                    rows[t] = Arrays.copyOfRange(features, t * featureDim, (t + 1) * featureDim);
                }
                return module.routeSequence(rows, k);
            }
        };
    }

    /** The same middle blocks for every input, e.g. the best static set or one chosen by a prior. */
    static SequenceRouting fixed(int... middleBlocks) {
        return new SequenceRouting() {
            @Override
            public FeatureSource featureSource() {
                return FeatureSource.VALUE;
            }

            @Override
            public boolean[] mask(float[] features, int n, int featureDim, int k) {
                throw new UnsupportedOperationException("fixed routing has no layer count; use mask(layers)");
            }

            @Override
            public boolean[] fixedMask(int layerCount) {
                boolean[] m = new boolean[layerCount];
                m[0] = true;
                m[layerCount - 1] = true;
                for (int b : middleBlocks) {
                    if (b < 1 || b > layerCount - 2) {
                        throw new IllegalArgumentException("block " + b + " is not a middle block of a "
                                + layerCount + "-block model");
                    }
                    m[b] = true;
                }
                return m;
            }
        };
    }

    /** Every block runs. */
    static SequenceRouting fullDepth() {
        return new SequenceRouting() {
            @Override
            public FeatureSource featureSource() {
                return FeatureSource.VALUE;
            }

            @Override
            public boolean[] mask(float[] features, int n, int featureDim, int k) {
                throw new UnsupportedOperationException("full depth has no layer count; use mask(layers)");
            }

            @Override
            public boolean[] fixedMask(int layerCount) {
                boolean[] m = new boolean[layerCount];
                Arrays.fill(m, true);
                return m;
            }
        };
    }

    /** For input-independent routings, the mask; null for routings that look at the input. */
    default boolean[] fixedMask(int layerCount) {
        return null;
    }
}
