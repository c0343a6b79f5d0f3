package dev.buddy.router;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

class RouterFileProperties {

    /** A router written and read back routes bit-identically on the same inputs, budget predictor included. */
    @Property(tries = 60)
    void roundTripRoutesIdentically(@ForAll @IntRange(min = 3, max = 40) int layers,
                                    @ForAll @IntRange(min = 1, max = 24) int featureDim,
                                    @ForAll @DoubleRange(min = 0.05, max = 1.0) double b,
                                    @ForAll Pooling pooling,
                                    @ForAll boolean withPredictor,
                                    @ForAll long seed) throws IOException {
        DynamicRouter original = TestRouters.router(layers, featureDim, seed, pooling, withPredictor);
        Path file = Files.createTempFile("router", ".gguf");
        try {
            RouterFile.write(original, file);
            DynamicRouter copy = (DynamicRouter) RouterFile.read(file);
            assertEquals(original.provenance(), copy.provenance());
            assertEquals(original.decision().featureSource(), copy.decision().featureSource());
            assertEquals(original.decision().pooling(), copy.decision().pooling());
            assertEquals(Float.floatToIntBits(original.decision().omega()),
                    Float.floatToIntBits(copy.decision().omega()));
            assertArrayEquals(original.decision().prior(), copy.decision().prior());
            assertArrayEquals(original.decision().mlp().w1(), copy.decision().mlp().w1());
            assertEquals(withPredictor, copy.predictor().isPresent());

            Budget budget = withPredictor ? null : Budget.fraction(b);
            DynamicRoutingSession a = original.openSession(budget, Reroute.everyStep());
            DynamicRoutingSession c = copy.openSession(budget, Reroute.everyStep());
            float[][] f = TestRouters.features(25, featureDim, seed);
            float[] sa = new float[layers - 2];
            float[] sc = new float[layers - 2];
            for (int t = 0; t < f.length; t++) {
                a.append(f[t], 0);
                c.append(f[t], 0);
                RoutingSession.Phase phase = t < 3 ? RoutingSession.Phase.PREFILL : RoutingSession.Phase.DECODE;
                assertEquals(a.route(phase), c.route(phase));
                assertArrayEquals(TestRouters.mask(a), TestRouters.mask(c));
                a.pooledScores(sa);
                c.pooledScores(sc);
                assertArrayEquals(sa, sc, "pooled scores are bit-identical");
                assertEquals(a.middleBlocks(), c.middleBlocks());
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Property(tries = 40)
    void staticPlanRoundTrips(@ForAll @IntRange(min = 3, max = 40) int layers, @ForAll long seed)
            throws IOException {
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        float[] importance = new float[layers - 2];
        for (int i = 0; i < importance.length; i++) {
            importance[i] = random.nextInt(5);
        }
        int k = 1 + random.nextInt(layers - 2);
        int[] explicit = java.util.stream.IntStream.rangeClosed(1, layers - 2).skip(layers - 2 - k).toArray();
        StaticPlan ranked = StaticPlan.fromScores("prior-only", importance,
                new Provenance(TestRouters.FINGERPRINT, "llama", true, new float[0], "prior", "taylor"));
        StaticPlan plan = new StaticPlan("mixed", layers, ranked.ranking(), java.util.Map.of(k, explicit),
                ranked.provenance());
        Path file = Files.createTempFile("plan", ".gguf");
        try {
            RouterFile.write(plan, file);
            StaticPlan copy = (StaticPlan) RouterFile.read(file);
            assertArrayEquals(plan.ranking(), copy.ranking());
            assertEquals(plan.provenance(), copy.provenance());
            for (int kk = 1; kk <= layers - 2; kk++) {
                assertArrayEquals(plan.maskFor(kk), copy.maskFor(kk), "k=" + kk);
            }
            boolean[] m = copy.maskFor(k);
            for (int blk : explicit) {
                assertEquals(true, m[blk], "explicit set wins over the ranking");
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
