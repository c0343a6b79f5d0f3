package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.buddy.router.DynamicRouter;
import dev.buddy.router.Router;
import dev.buddy.router.RouterFile;
import dev.buddy.router.TwoLayerMlp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's contract on a small synthetic model: same seed, same bits; an interrupted run resumed from its
 * checkpoint ends bit-identical to an uninterrupted one; a resume with other settings is refused naming them; the
 * router file is a trained router for this model; training actually moves the weights.
 */
class RouterTrainerTest {
    /** JUnit deletes it after {@code @AfterAll} has closed the mapped model, so no run leaves files in /tmp. */
    @TempDir
    static Path dir;
    private static FrozenModel model;
    private static TrainingData data;

    @BeforeAll
    static void setUp() throws IOException {
        SyntheticModel shape = new SyntheticModel("llama", 5, 32, 4, 2, 8, 64, 40, false, dev.buddy.gguf.GgmlType.F32);
        model = FrozenModel.open(shape.write(dir, 7));
        data = ListData.random(11, 40, 12, 40, 4);
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    private static TrainConfig config() {
        return TrainConfig.defaults(6).withOptimizer(1e-2, 2, 3).withMaxTokens(12).withThreads(2)
                .withCheckpointEvery(2).withSeed(5);
    }

    private static float[] weights(Path routerFile) throws IOException {
        Router r = RouterFile.read(routerFile);
        TwoLayerMlp mlp = ((DynamicRouter) r).decision().mlp();
        float[][] parts = {mlp.w1(), mlp.b1(), mlp.w2(), mlp.b2()};
        int size = 0;
        for (float[] p : parts) {
            size += p.length;
        }
        float[] all = new float[size];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    @Test
    void sameSeedGivesABitIdenticalRun(@TempDir Path tmp) throws IOException {
        Prior prior = Prior.none(3);
        var a = RouterTrainer.train(model, data, config(), prior, tmp.resolve("a.gguf"), false, null);
        var b = RouterTrainer.train(model, data, config(), prior, tmp.resolve("b.gguf"), false, null);
        assertArrayEquals(weights(tmp.resolve("a.gguf")), weights(tmp.resolve("b.gguf")));
        assertArrayEquals(a.stepLosses(), b.stepLosses());
        var c = RouterTrainer.train(model, data, config().withSeed(6), prior, tmp.resolve("c.gguf"), false, null);
        assertFalse(java.util.Arrays.equals(weights(tmp.resolve("a.gguf")), weights(tmp.resolve("c.gguf"))),
                "another seed must give another run");
        assertEquals(a.stepLosses().length, c.stepLosses().length);
    }

    @Test
    void resumedRunEndsBitIdenticalToAnUninterruptedOne(@TempDir Path tmp) throws IOException {
        Prior prior = new Prior("taylor", new float[] {0.5f, -1.2f, 0.7f});
        Path whole = tmp.resolve("whole.gguf");
        var straight = RouterTrainer.train(model, data, config(), prior, whole, false, null);
        Path split = tmp.resolve("split.gguf");
        var first = RouterTrainer.train(model, data, config(), prior, split, false, null, 3);
        assertEquals(3, first.stepLosses().length);
        assertTrue(Files.exists(TrainingCheckpoint.pathFor(split)));
        // A different thread count must not matter: every kernel output element belongs to one thread.
        var resumed = RouterTrainer.train(model, data, config().withThreads(1), prior, split, true, null);
        assertEquals(3, resumed.firstStep());
        assertArrayEquals(weights(whole), weights(split));
        assertArrayEquals(straight.stepLosses(), resumed.stepLosses());
        assertEquals(straight.tokens(), resumed.tokens());
    }

    @Test
    void secantRunResumesBitIdenticallyAndTrainsOtherWeightsThanTheSlopes(@TempDir Path tmp) throws IOException {
        Prior prior = new Prior("taylor", new float[] {0.5f, -1.2f, 0.7f});
        TrainConfig secant = config().withSecantBlocks(1);
        Path whole = tmp.resolve("whole.gguf");
        var straight = RouterTrainer.train(model, data, secant, prior, whole, false, null);
        Path split = tmp.resolve("split.gguf");
        RouterTrainer.train(model, data, secant, prior, split, false, null, 3);
        CheckpointException other = assertThrows(CheckpointException.class, () -> RouterTrainer.train(model, data,
                config(), prior, split, true, null));
        assertTrue(other.getMessage().contains("secant"), other.getMessage());
        var resumed = RouterTrainer.train(model, data, secant, prior, split, true, null);
        assertArrayEquals(weights(whole), weights(split));
        assertArrayEquals(straight.stepLosses(), resumed.stepLosses());
        Path slopes = tmp.resolve("slopes.gguf");
        RouterTrainer.train(model, data, config(), prior, slopes, false, null);
        assertFalse(java.util.Arrays.equals(weights(whole), weights(slopes)),
                "measured gate gradients must give another router than the analytic slopes");
    }

    @Test
    void resumeWithOtherSettingsIsRefusedNamingThem(@TempDir Path tmp) throws IOException {
        Prior prior = Prior.none(3);
        Path out = tmp.resolve("r.gguf");
        RouterTrainer.train(model, data, config(), prior, out, false, null, 2);
        CheckpointException e = assertThrows(CheckpointException.class, () -> RouterTrainer.train(model, data,
                config().withOptimizer(2e-2, 2, 3), prior, out, true, null));
        assertTrue(e.getMessage().contains("lr: 0.01 in the checkpoint, 0.02 now"), e.getMessage());
        CheckpointException missing = assertThrows(CheckpointException.class, () -> RouterTrainer.train(model,
                data, config(), prior, tmp.resolve("other.gguf"), true, null));
        assertTrue(missing.getMessage().contains("no checkpoint"), missing.getMessage());
    }

    @Test
    void writesATrainedRouterForThisModel(@TempDir Path tmp) throws IOException {
        Prior prior = new Prior("taylor", new float[] {1f, 0f, -1f});
        Path out = tmp.resolve("r.gguf");
        var result = RouterTrainer.train(model, data, config(), prior, out, false, null);
        Router loaded = RouterFile.load(out, model.baseInfo());
        assertTrue(loaded.provenance().trained());
        assertEquals(RouterTrainer.METHOD, loaded.provenance().method());
        assertEquals("taylor", loaded.provenance().priorKind());
        assertArrayEquals(new float[] {0.5f, 0.625f, 0.75f, 0.875f, 1.0f}, loaded.provenance().trainingBudgets());
        DynamicRouter dynamic = (DynamicRouter) loaded;
        assertArrayEquals(prior.values(), dynamic.decision().prior());
        float[] initial = new RouterParameters(model.spec().kvDim(), 32, 3).flatten(
                RouterTrainer.initialRouter(model, config(), prior).decision().mlp());
        assertNotEquals(java.util.Arrays.toString(initial), java.util.Arrays.toString(weights(out)),
                "six steps at lr 1e-2 must move the weights");
        for (double loss : result.stepLosses()) {
            assertTrue(Double.isFinite(loss) && loss > 0, "step loss " + loss);
        }
    }

    @Test
    void priorInitialisedRouterRoutesExactlyAsThePriorAlone() {
        Prior prior = new Prior("taylor", new float[] {0.9f, -1.3f, 0.4f});
        DynamicRouter initial = RouterTrainer.initialRouter(model, config().withInit(RouterInit.PRIOR), prior);
        dev.buddy.router.StaticPlan priorOnly = dev.buddy.router.StaticPlan.fromScores("prior", prior.values(),
                initial.provenance());
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        int dim = model.spec().kvDim();
        for (int trial = 0; trial < 20; trial++) {
            float[][] features = new float[1 + random.nextInt(6)][dim];
            for (float[] row : features) {
                for (int i = 0; i < dim; i++) {
                    row[i] = (float) random.nextGaussian() * 3;
                }
            }
            for (int k = 1; k <= 3; k++) {
                assertArrayEquals(priorOnly.maskFor(k), initial.decision().routeSequence(features, k),
                        "k=" + k + " trial " + trial);
            }
        }
        DynamicRouter random0 = RouterTrainer.initialRouter(model, config(), prior);
        assertNotEquals(java.util.Arrays.toString(random0.decision().mlp().w2()),
                java.util.Arrays.toString(initial.decision().mlp().w2()));
    }
}
