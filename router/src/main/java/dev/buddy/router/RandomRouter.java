package dev.buddy.router;

import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Untrained routers with seeded random weights, for exercising the routing machinery before trained weights exist.
 * They are marked {@code buddy.router.trained = false} and method {@code random} so tools can say plainly that the
 * routes they produce carry no learned meaning. Initialisation is PyTorch's {@code nn.Linear} default,
 * U(−1/√fan_in, 1/√fan_in) for weights and biases; the prior is zero.
 */
public final class RandomRouter {
    public static final String METHOD = "random";

    private RandomRouter() {}

    /**
     * A random BUDDY router for {@code model}.
     *
     * @param withPredictor also create a random budget predictor
     */
    public static DynamicRouter create(BaseModelInfo model, long seed, FeatureSource source, Pooling pooling,
                                       boolean withPredictor) {
        return create(model.layerCount(), model.featureDim(source), model.fingerprint(), model.architecture(), seed,
                source, pooling, withPredictor);
    }

    public static DynamicRouter create(int layerCount, int featureDim, String baseFingerprint, String baseArchitecture,
                                       long seed, FeatureSource source, Pooling pooling, boolean withPredictor) {
        Budget.requireRoutableDepth(layerCount);
        SplittableRandom random = new SplittableRandom(seed);
        int middle = layerCount - 2;
        int hidden = DecisionModule.DEFAULT_HIDDEN;
        DecisionModule decision = new DecisionModule(layerCount, randomMlp(random, featureDim, hidden, middle),
                new float[middle], DecisionModule.DEFAULT_OMEGA, source, pooling);
        Optional<BudgetPredictor> predictor = withPredictor
                ? Optional.of(new BudgetPredictor(layerCount, randomMlp(random, featureDim, hidden, middle)))
                : Optional.empty();
        Provenance provenance = new Provenance(baseFingerprint, baseArchitecture, false, new float[0], METHOD, "none");
        return new DynamicRouter("random(seed=" + seed + ")", decision, predictor, provenance);
    }

    static TwoLayerMlp randomMlp(SplittableRandom random, int in, int hidden, int out) {
        return new TwoLayerMlp(in, hidden, out,
                uniform(random, in * hidden, in), uniform(random, hidden, in),
                uniform(random, hidden * out, hidden), uniform(random, out, hidden));
    }

    private static float[] uniform(SplittableRandom random, int n, int fanIn) {
        double bound = 1.0 / Math.sqrt(fanIn);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) random.nextDouble(-bound, bound);
        }
        return a;
    }
}
