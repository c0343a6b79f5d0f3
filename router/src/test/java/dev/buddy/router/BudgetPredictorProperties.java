package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class BudgetPredictorProperties {

    private static BudgetPredictor predictor(int layers, int d, long seed) {
        return new BudgetPredictor(layers, RandomRouter.randomMlp(new SplittableRandom(seed), d, 8, layers - 2));
    }

    @Property(tries = 300)
    void argmaxAndBudgetMath(@ForAll @IntRange(min = 3, max = 40) int layers,
                             @ForAll @IntRange(min = 1, max = 4) int distinctValues,
                             @ForAll long seed) {
        int actions = layers - 2;
        SplittableRandom random = new SplittableRandom(seed);
        float[] logits = new float[actions];
        for (int a = 0; a < actions; a++) {
            logits[a] = random.nextInt(distinctValues) - 1.5f;
        }
        BudgetPredictor bp = predictor(layers, 3, seed);
        int k = bp.predictMiddleBlocks(logits);
        float max = (float) IntStream.range(0, actions).mapToDouble(a -> logits[a]).max().orElseThrow();
        int firstMax = IntStream.range(0, actions).filter(a -> logits[a] == max).findFirst().orElseThrow();
        assertEquals(firstMax + 1, k, "k̂ = 1 + argmax, ties to the smaller k");
        assertEquals((k + 2) / (double) layers, bp.predictBudget(logits));
        assertEquals(k, Budget.fraction(bp.predictBudget(logits)).middleBlocks(layers), "b̂ maps back to k̂");

        double[] p = new double[actions];
        BudgetPredictor.softmax(logits, actions, p);
        assertEquals(1.0, IntStream.range(0, actions).mapToDouble(a -> p[a]).sum(), 1e-9);
        double pMax = IntStream.range(0, actions).mapToDouble(a -> p[a]).max().orElseThrow();
        assertEquals(pMax, p[k - 1], "argmax of the softmax is the argmax of the logits");
    }

    @Property(tries = 100)
    void sessionPredictsFromThePromptMeanAndFreezesAtDecode(@ForAll @IntRange(min = 3, max = 40) int layers,
                                                            @ForAll @IntRange(min = 1, max = 10) int promptLength,
                                                            @ForAll long seed) {
        int d = 5;
        DynamicRouter router = TestRouters.router(layers, d, seed, Pooling.MEAN, true);
        BudgetPredictor bp = router.predictor().orElseThrow();
        DynamicRoutingSession session = router.openSession(null, Reroute.everyStep());
        assertTrue(session.budgetPredicted());
        float[][] f = TestRouters.features(promptLength + 10, d, seed);
        for (int t = 0; t < promptLength; t++) {
            session.append(f[t], 0);
        }
        session.route(RoutingSession.Phase.PREFILL);
        int expectedK = bp.predictMiddleBlocks(meanLogits(bp, f, promptLength, layers - 2));
        assertEquals(expectedK, session.middleBlocks());
        assertEquals((expectedK + 2) / (double) layers, session.budget());
        assertEquals(expectedK, TestRouters.countMiddle(TestRouters.mask(session)));
        for (int t = promptLength; t < f.length; t++) {
            session.append(f[t], 0);
            session.route(RoutingSession.Phase.DECODE);
            assertEquals(expectedK, session.middleBlocks(), "k̂ is chosen once per prompt");
            assertEquals(expectedK, TestRouters.countMiddle(TestRouters.mask(session)));
        }
    }

    private static float[] meanLogits(BudgetPredictor bp, float[][] f, int n, int actions) {
        double[] sum = new double[actions];
        float[] out = new float[actions];
        float[] hidden = new float[bp.mlp().hiddenDim()];
        for (int t = 0; t < n; t++) {
            bp.tokenLogits(f[t], 0, hidden, out);
            for (int a = 0; a < actions; a++) {
                sum[a] += out[a];
            }
        }
        float[] mean = new float[actions];
        for (int a = 0; a < actions; a++) {
            mean[a] = (float) (sum[a] / n);
        }
        return mean;
    }

    @Example
    void noBudgetWithoutPredictorIsATypedError() {
        DynamicRouter router = TestRouters.router(10, 4, 1, Pooling.MEAN, false);
        InvalidBudgetException e = assertThrows(InvalidBudgetException.class,
                () -> router.openSession(null, Reroute.everyStep()));
        assertTrue(e.getMessage().contains("no budget predictor"), e.getMessage());
        assertEquals(Optional.empty(), router.predictor());
    }
}
