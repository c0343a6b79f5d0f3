package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import dev.buddy.gguf.TestData;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.RouterFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TablePredictorTrainer} on stories260K (5 blocks, actions k = 1..3): given a table in which each prompt has
 * its own best budget, the predictor learns to choose it per prompt; held-out rows are scored, never trained on.
 */
class TablePredictorTrainerTest {
    @TempDir
    Path dir;

    private TrainingData data(FrozenModel model) throws Exception {
        Path data = dir.resolve("data.jsonl");
        Files.writeString(data, """
                {"instruction": "Tell a story about a cat.", "output": "Once upon a time there was a cat."}
                {"instruction": "Why is the sky blue? Answer in one word please.", "output": "Light."}
                {"instruction": "Lily and Ben went to the park to play on the big red slide.", "output": "They had fun."}
                {"instruction": "Tell a story about a dog.", "output": "The big dog ran in the park."}
                """);
        return TrainingData.open(data, model.tokenizer(), 128);
    }

    /** Row p's cross-entropy is lowest at k = best[p] (by one nat), so with no cost its best budget is best[p]. */
    private static BudgetTable table(int... best) {
        int[] examples = new int[best.length];
        double[][] ce = new double[best.length][3];
        for (int p = 0; p < best.length; p++) {
            examples[p] = p;
            for (int a = 0; a < 3; a++) {
                ce[p][a] = a + 1 == best[p] ? 2.0 : 3.0;
            }
        }
        return new BudgetTable(new BudgetTable.Identity("-", "-", "-", 128), 5, examples, ce);
    }

    private static PredictorConfig config(int steps) {
        return PredictorConfig.defaults(steps).withOptimizer(3e-2, 1).withReward(5.0, 0.0, 0.0).withThreads(1)
                .withMaxTokens(128);
    }

    @Test
    void eachPromptGetsItsOwnBestBudget() throws Exception {
        try (FrozenModel model = FrozenModel.open(TestData.require("models/stories260K.gguf"))) {
            DynamicRouter router = RandomRouter.create(model.baseInfo(), 3, FeatureSource.VALUE, Pooling.MEAN, false);
            BudgetTable t = table(1, 3, 2);
            TablePredictorTrainer.Result r = TablePredictorTrainer.train(model, router, data(model), t, 0, 0.1,
                    config(400), null);
            double[] losses = r.stepLosses();
            // Rewards −10 and −15 at τ = 0.1 make each target one-hot to within e^−50: the uniform start's
            // cross-entropy is ln 3, and a predictor that tells the prompts apart drives it towards 0.
            assertEquals(Math.log(3), losses[0], 1e-9);
            assertTrue(losses[losses.length - 1] < 0.05, "cross-entropy " + losses[losses.length - 1]);
            // The predictor matches the oracle on every training prompt, which no single budget can.
            assertArrayEquals(new int[] {1, 1, 1}, r.train().chosen());
            assertEquals(r.train().oracleReward(), r.train().policyReward(), 1e-12);
            assertEquals(-5.0 * 8.0 / 3.0, r.train().constantReward(), 1e-9);
            assertEquals(5.0 * 2.0 / 3.0, r.train().gainOverConstant(), 1e-9);
            assertNull(r.heldOut());
            // What the router file carries is what was scored: read back, its predictor sends each prompt to its
            // best budget.
            Path file = dir.resolve("trained.router.gguf");
            RouterFile.write(r.router(), file);
            DynamicRouter back = (DynamicRouter) RouterFile.read(file);
            TrainingData data = data(model);
            int[] best = {1, 3, 2};
            for (int p = 0; p < 3; p++) {
                int[] counts = PredictorEvaluation.chosenBudgets(model, back, data.slice(p, p + 1), 1, 1);
                int[] expected = new int[3];
                expected[best[p] - 1] = 1;
                assertArrayEquals(expected, counts, "prompt " + p);
            }
        }
    }

    @Test
    void heldOutRowsAreScoredButNotTrainedOn() throws Exception {
        try (FrozenModel model = FrozenModel.open(TestData.require("models/stories260K.gguf"))) {
            DynamicRouter router = RandomRouter.create(model.baseInfo(), 3, FeatureSource.VALUE, Pooling.MEAN, false);
            TrainingData data = data(model);
            // The first three prompts all prefer k = 2; the held-out fourth prefers k = 3.
            TablePredictorTrainer.Result r = TablePredictorTrainer.train(model, router, data, table(2, 2, 2, 3), 1,
                    1.0, config(200), null);
            assertEquals(3, r.train().prompts());
            assertEquals(1, r.heldOut().prompts());
            assertEquals(2, r.train().constantK());
            assertEquals(2, r.heldOut().constantK(), "the fixed budget is chosen on the training rows");
            assertArrayEquals(new int[] {0, 3, 0}, r.train().chosen());
            assertArrayEquals(new int[] {0, 1, 0}, r.heldOut().chosen());
            assertEquals(-15.0, r.heldOut().policyReward(), 1e-12);
            assertEquals(-10.0, r.heldOut().oracleReward(), 1e-12);
            assertEquals(0.0, r.heldOut().gainOverConstant(), 0.0);

            // A fixed seed repeats bit for bit.
            TablePredictorTrainer.Result again = TablePredictorTrainer.train(model, router, data, table(2, 2, 2, 3),
                    1, 1.0, config(200), null);
            assertArrayEquals(r.stepLosses(), again.stepLosses(), 0.0);
            assertArrayEquals(r.router().predictor().orElseThrow().mlp().w2(),
                    again.router().predictor().orElseThrow().mlp().w2(), 0f);

            InvalidTrainingOptionException e = assertThrows(InvalidTrainingOptionException.class,
                    () -> TablePredictorTrainer.train(model, router, data, table(2, 2), 2, 1.0, config(1), null));
            assertTrue(e.getMessage().contains("at least one must be left to train on"), e.getMessage());
            BudgetTable tooFar = new BudgetTable(new BudgetTable.Identity("-", "-", "-", 128), 5, new int[] {9},
                    new double[][] {{1, 2, 3}});
            BudgetTableException f = assertThrows(BudgetTableException.class,
                    () -> TablePredictorTrainer.train(model, router, data, tooFar, 0, 1.0, config(1), null));
            assertTrue(f.getMessage().contains("is example 9"), f.getMessage());
        }
    }
}
