package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import dev.buddy.gguf.TestData;
import dev.buddy.router.Budget;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link BudgetOracle} on stories260K (5 blocks, so k = 1..3) with a random router. */
class BudgetOracleTest {

    private static Path alpaca(Path dir) throws Exception {
        Path data = dir.resolve("data.jsonl");
        Files.writeString(data, """
                {"instruction": "Tell a story about a cat.", "output": "Once upon a time there was a cat. It liked milk."}
                {"instruction": "Tell a story about a dog.", "output": "The big dog ran in the park with Tim and Sue."}
                {"instruction": "Tell a story about a bird.", "output": "A little bird sang in the tree all day long."}
                """);
        return data;
    }

    @Test
    void theOracleIsAtLeastEveryFixedBudgetAndCostChoosesTheShallowest(@TempDir Path dir) throws Exception {
        try (FrozenModel model = FrozenModel.open(TestData.require("models/stories260K.gguf"))) {
            DynamicRouter router = RandomRouter.create(model.baseInfo(), 3, FeatureSource.VALUE, Pooling.MEAN, false);
            TrainingData data = TrainingData.open(alpaca(dir), model.tokenizer(), 128);
            BudgetOracle.Result r = BudgetOracle.measure(model, router, data, 10, 128, 1, null, null)
                    .rewards(5.0, 0.05);
            assertEquals(3, r.rewards().length);
            assertEquals(3, Arrays.stream(r.oracleCounts()).sum());
            int best = r.bestConstantK();
            for (int k = 1; k <= 3; k++) {
                assertTrue(r.oracleMeanReward() >= r.constantMeanReward(k), "oracle below k=" + k);
                assertTrue(r.constantMeanReward(best) >= r.constantMeanReward(k), "k=" + best + " not the best");
            }
            // The cost term is the reward's only difference between two weights: CE is the same pass either way.
            BudgetOracle.Result costly = BudgetOracle.measure(model, router, data, 10, 128, 1, null, null)
                    .rewards(5.0, 1e6);
            for (int p = 0; p < 3; p++) {
                for (int k = 1; k <= 3; k++) {
                    double b = Budget.fractionForMiddleBlocks(k, 5);
                    assertEquals(r.rewards()[p][k - 1] + 0.05 * b - 1e6 * b, costly.rewards()[p][k - 1], 1e-6);
                }
                assertEquals(1, costly.bestK(p), "a cost this large makes the fewest blocks best");
            }
        }
    }

    @Test
    void anInterruptedTableContinuesToTheSameNumbers(@TempDir Path dir) throws Exception {
        try (FrozenModel model = FrozenModel.open(TestData.require("models/stories260K.gguf"))) {
            DynamicRouter router = RandomRouter.create(model.baseInfo(), 3, FeatureSource.VALUE, Pooling.MEAN, false);
            TrainingData data = TrainingData.open(alpaca(dir), model.tokenizer(), 128);
            BudgetTable fresh = BudgetOracle.measure(model, router, data, 3, 128, 1, null, null);
            // A run stopped after two prompts leaves a two-row table; the rerun keeps those rows and scores the third.
            Path file = dir.resolve("table.tsv");
            BudgetOracle.measure(model, router, data, 2, 128, 1, null, file);
            assertEquals(2, BudgetTable.read(file).rows());
            BudgetTable resumed = BudgetOracle.measure(model, router, data, 3, 128, 1, null, file);
            assertArrayEquals(fresh.examples(), resumed.examples());
            for (int p = 0; p < 3; p++) {
                assertArrayEquals(fresh.crossEntropy()[p], resumed.crossEntropy()[p], 0.0);
                assertArrayEquals(fresh.crossEntropy()[p], BudgetTable.read(file).crossEntropy()[p], 0.0);
            }
            // The same file under another router is another run's numbers, not a head start.
            DynamicRouter other = RandomRouter.create(model.baseInfo(), 4, FeatureSource.VALUE, Pooling.MEAN, false);
            BudgetTableException e = assertThrows(BudgetTableException.class,
                    () -> BudgetOracle.measure(model, other, data, 3, 128, 1, null, file));
            assertTrue(e.getMessage().contains("different router"), e.getMessage());
        }
    }

    @Test
    void dataWithoutAnyResponseIsAUserError(@TempDir Path dir) throws Exception {
        // At 4 tokens the prompt fills the example and the response is cut away.
        Path data = alpaca(dir);
        try (FrozenModel model = FrozenModel.open(TestData.require("models/stories260K.gguf"))) {
            DynamicRouter router = RandomRouter.create(model.baseInfo(), 3, FeatureSource.VALUE, Pooling.MEAN, false);
            TrainingData d = TrainingData.open(data, model.tokenizer(), 4);
            InvalidTrainingOptionException e = assertThrows(InvalidTrainingOptionException.class,
                    () -> BudgetOracle.measure(model, router, d, 5, 4, 1, null, null));
            assertTrue(e.getMessage().contains("no example with a scored response"), e.getMessage());
        }
    }
}
