package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.buddy.router.BudgetPredictor;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.RouterFile;
import dev.buddy.router.TwoLayerMlp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GRPO trainer's contract on a small synthetic model: same seed, same bits; an interrupted run resumed from its
 * checkpoint ends bit-identical to an uninterrupted one; a resume with other settings is refused naming them; the
 * output is the input router (decision module, prior, fingerprint, provenance) plus the trained predictor.
 */
class PredictorTrainerTest {
    /** JUnit deletes it after {@code @AfterAll} has closed the mapped model, so no run leaves files in /tmp. */
    @TempDir
    static Path dir;
    private static FrozenModel model;
    private static TrainingData data;
    private static DynamicRouter router;

    @BeforeAll
    static void setUp() throws IOException {
        SyntheticModel shape = new SyntheticModel("llama", 6, 32, 4, 2, 8, 64, 40, false, dev.buddy.gguf.GgmlType.F32);
        model = FrozenModel.open(shape.write(dir, 3));
        data = ListData.random(17, 30, 14, 40, 5);
        DynamicRouter random = RandomRouter.create(model.baseInfo(), 9, FeatureSource.VALUE, Pooling.MEAN, false);
        router = new DynamicRouter("test router", new dev.buddy.router.DecisionModule(6, random.decision().mlp(),
                new float[] {0.3f, -1f, 0.2f, 0.5f}, 0.1f, FeatureSource.VALUE, Pooling.MEAN),
                java.util.Optional.empty(), random.provenance());
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    private static PredictorConfig config() {
        return PredictorConfig.defaults(6).withOptimizer(1e-2, 2).withMaxTokens(14).withThreads(2)
                .withCheckpointEvery(2).withSeed(4);
    }

    private static float[] predictorWeights(Path file) throws IOException {
        DynamicRouter r = (DynamicRouter) RouterFile.read(file);
        TwoLayerMlp mlp = r.predictor().orElseThrow().mlp();
        return new RouterParameters(mlp.inputDim(), mlp.hiddenDim(), mlp.outputDim()).flatten(mlp);
    }

    @Test
    void sameSeedGivesABitIdenticalRun(@TempDir Path tmp) throws IOException {
        var a = PredictorTrainer.train(model, router, data, config(), tmp.resolve("a.gguf"), false, null);
        var b = PredictorTrainer.train(model, router, data, config(), tmp.resolve("b.gguf"), false, null);
        assertArrayEquals(predictorWeights(tmp.resolve("a.gguf")), predictorWeights(tmp.resolve("b.gguf")));
        assertArrayEquals(a.stepLosses(), b.stepLosses());
        assertArrayEquals(a.stepRewards(), b.stepRewards());
        PredictorTrainer.train(model, router, data, config().withSeed(5), tmp.resolve("c.gguf"), false, null);
        assertFalse(java.util.Arrays.equals(predictorWeights(tmp.resolve("a.gguf")),
                predictorWeights(tmp.resolve("c.gguf"))), "another seed must give another run");
        for (double r : a.stepRewards()) {
            assertTrue(Double.isFinite(r) && r < 0, "reward " + r);
        }
    }

    @Test
    void resumedRunEndsBitIdenticalToAnUninterruptedOne(@TempDir Path tmp) throws IOException {
        Path whole = tmp.resolve("whole.gguf");
        var straight = PredictorTrainer.train(model, router, data, config(), whole, false, null);
        Path split = tmp.resolve("split.gguf");
        PredictorTrainer.train(model, router, data, config(), split, false, null, 3);
        assertTrue(Files.exists(TrainingCheckpoint.pathFor(split)));
        var resumed = PredictorTrainer.train(model, router, data, config().withThreads(1), split, true, null);
        assertEquals(3, resumed.firstStep());
        assertArrayEquals(predictorWeights(whole), predictorWeights(split));
        assertArrayEquals(straight.stepLosses(), resumed.stepLosses());
        assertEquals(straight.tokens(), resumed.tokens());
    }

    @Test
    void resumeWithOtherSettingsOrAnotherRouterIsRefused(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("r.gguf");
        PredictorTrainer.train(model, router, data, config(), out, false, null, 2);
        CheckpointException e = assertThrows(CheckpointException.class, () -> PredictorTrainer.train(model, router,
                data, config().withReward(5.0, 0.5, 0.01), out, true, null));
        assertTrue(e.getMessage().contains("lambdaCost: 0.05 in the checkpoint, 0.5 now"), e.getMessage());
        DynamicRouter other = RandomRouter.create(model.baseInfo(), 10, FeatureSource.VALUE, Pooling.MEAN, false);
        assertThrows(CheckpointException.class, () -> PredictorTrainer.train(model, other, data, config(), out, true,
                null));
    }

    @Test
    void outputIsTheInputRouterWithAPredictor(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("r.gguf");
        var result = PredictorTrainer.train(model, router, data, config(), out, false, null);
        DynamicRouter loaded = (DynamicRouter) RouterFile.load(out, model.baseInfo());
        assertEquals(router.provenance(), loaded.provenance());
        assertArrayEquals(router.decision().prior(), loaded.decision().prior());
        assertArrayEquals(router.decision().mlp().w1(), loaded.decision().mlp().w1());
        assertArrayEquals(router.decision().mlp().b2(), loaded.decision().mlp().b2());
        BudgetPredictor predictor = loaded.predictor().orElseThrow();
        assertEquals(4, predictor.mlp().outputDim());
        assertArrayEquals(new RouterParameters(16, 32, 4).flatten(result.router().predictor().orElseThrow().mlp()),
                predictorWeights(out));
        float[] initial = PredictorTrainer.initialParams(new RouterParameters(16, 32, 4), config().seed());
        assertFalse(java.util.Arrays.equals(initial, predictorWeights(out)), "six steps at lr 1e-2 must move it");
    }
}
