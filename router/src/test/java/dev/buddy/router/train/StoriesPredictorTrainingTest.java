package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.Model;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.engine.model.Transformer;
import dev.buddy.engine.tensor.Parallel;
import dev.buddy.engine.tokenizer.Tokenizer;
import dev.buddy.gguf.TestData;
import dev.buddy.router.BuddyPlanner;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.DynamicRoutingSession;
import dev.buddy.router.FeatureSource;
import dev.buddy.router.Pooling;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.Reroute;
import dev.buddy.router.RouterFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A CI-sized GRPO run on the 5-block TinyStories model (actions k ∈ {1, 2, 3}, budgets 0.6, 0.8, 1.0) with a random
 * router: prompts are a story's first sentence, targets the rest of it (up to 64 tokens). Two runs of 40 steps with
 * opposite incentives, each judged on 40 held-out stories with the exact objective ({@link PredictorEvaluation}: every
 * action's reward computed, no sampling noise):
 *
 * <ul>
 *   <li>the paper's reward (λ_perf 5, λ_cost 0.05), where skipping blocks costs far more cross-entropy than it
 *       saves: the expected reward E_π[r] must rise and the budget {@code --budget auto} picks must grow;</li>
 *   <li>a cost-dominated reward (λ_cost 50): E_π[r] must rise and the chosen budget must shrink.</li>
 * </ul>
 *
 * The learning rate is 1e-2, not the paper's 1e-5: Adam moves each weight by about lr per step, and 40 steps at
 * 1e-5 leave π uniform to five decimals (the paper runs 10,000 steps). The trained file is then loaded and run
 * through the inference engine with no budget: the budget the engine's predictor chooses for a prompt must be the
 * argmax of the trained policy on the same prompt.
 */
class StoriesPredictorTrainingTest {
    private static final int THREADS = 2;
    private static final int MAX_TOKENS = 64;

    @Test
    void grpoRaisesTheExpectedRewardInTheDirectionTheRewardPoints(@TempDir Path tmp) throws IOException {
        Path modelFile = TestData.require("models/stories260K.gguf");
        Path text = TestData.require("datasets/tinystories/tinystories-valid-sample.txt");
        try (FrozenModel model = FrozenModel.open(modelFile)) {
            List<TrainingExample> stories = promptedStories(model.tokenizer(), text, 240);
            TrainingData heldOut = new ListData("stories 0..39", stories.subList(0, 40));
            TrainingData training = new ListData("stories 40..", stories.subList(40, stories.size()));
            DynamicRouter router = RandomRouter.create(model.baseInfo(), 0, FeatureSource.VALUE, Pooling.MEAN, false);
            PredictorConfig paper = PredictorConfig.defaults(40).withOptimizer(1e-2, 2).withMaxTokens(MAX_TOKENS)
                    .withThreads(THREADS).withCheckpointEvery(0).withSeed(1);
            PredictorConfig frugal = paper.withReward(5.0, 50.0, PredictorConfig.DEFAULT_BETA);

            Path paperFile = tmp.resolve("paper.gguf");
            Outcome p = trainAndJudge(model, router, training, heldOut, paper, paperFile);
            Outcome f = trainAndJudge(model, router, training, heldOut, frugal, tmp.resolve("frugal.gguf"));
            System.out.printf(Locale.ROOT, "stories260K GRPO, 40 steps: paper reward %s -> %s; cost-heavy reward "
                    + "%s -> %s; fixed-k CE %s%n", p.before, p.after, f.before, f.after,
                    Arrays.toString(p.after.fixedCrossEntropy()));

            assertTrue(p.after.expectedReward() > p.before.expectedReward(), "paper reward: E_pi[r] did not rise: "
                    + p.before + " -> " + p.after);
            assertTrue(p.after.argmaxBudget() > p.before.argmaxBudget(), "paper reward: chosen budget did not grow");
            assertTrue(f.after.expectedReward() > f.before.expectedReward(), "cost-heavy reward: E_pi[r] did not "
                    + "rise: " + f.before + " -> " + f.after);
            assertTrue(f.after.argmaxBudget() < p.after.argmaxBudget(), "cost-heavy reward must choose less compute");

            assertEngineChoosesThePolicyArgmax(modelFile, paperFile, heldOut, model);
        }
    }

    private record Outcome(PredictorEvaluation.Result before, PredictorEvaluation.Result after) {}

    private static Outcome trainAndJudge(FrozenModel model, DynamicRouter router, TrainingData training,
                                         TrainingData heldOut, PredictorConfig config, Path output) throws IOException {
        RouterParameters shape = new RouterParameters(router.decision().featureDim(), config.hiddenDim(),
                router.layerCount() - 2);
        DynamicRouter initial = PredictorTrainer.withPredictor(router,
                shape.toMlp(PredictorTrainer.initialParams(shape, config.seed())));
        PredictorEvaluation.Result before = PredictorEvaluation.evaluate(model, initial, heldOut, config.lambdaPerf(),
                config.lambdaCost(), THREADS);
        PredictorTrainer.train(model, router, training, config, output, false, null);
        DynamicRouter trained = (DynamicRouter) RouterFile.load(output, model.baseInfo());
        PredictorEvaluation.Result after = PredictorEvaluation.evaluate(model, trained, heldOut, config.lambdaPerf(),
                config.lambdaCost(), THREADS);
        return new Outcome(before, after);
    }

    /** The engine, routing a prompt with no budget, runs exactly the k the trained policy's argmax names. */
    private static void assertEngineChoosesThePolicyArgmax(Path modelFile, Path routerFile, TrainingData prompts,
                                                           FrozenModel frozen) throws IOException {
        DynamicRouter trained = (DynamicRouter) RouterFile.load(routerFile, frozen.baseInfo());
        try (Model model = Model.load(modelFile); Parallel pool = new Parallel(1)) {
            Transformer transformer = new Transformer(model, pool);
            for (int i = 0; i < 10; i++) {
                TrainingExample e = prompts.example(i);
                int[] prompt = Arrays.copyOf(e.tokens(), e.firstTarget());
                int[] expected = PredictorEvaluation.chosenBudgets(frozen, trained,
                        new ListData("one", List.of(e)), 1, 1);
                BuddyPlanner planner = BuddyPlanner.open(trained, null, Reroute.everyStep());
                InferenceState state = transformer.newState(MAX_TOKENS, KvCacheType.F32, MAX_TOKENS,
                        SkippedKvPolicy.ZEROS);
                transformer.forward(state, prompt, 0, prompt.length, planner, true);
                DynamicRoutingSession session = (DynamicRoutingSession) planner.session();
                assertTrue(session.budgetPredicted());
                int k = session.middleBlocks();
                assertEquals(1, expected[k - 1], "prompt " + i + ": engine chose k=" + k + ", policy argmax counts "
                        + Arrays.toString(expected));
            }
        }
    }

    /** Stories as (first sentence → rest) examples: BOS + first sentence is the prompt, the rest the target. */
    static List<TrainingExample> promptedStories(Tokenizer tokenizer, Path file, int count) throws IOException {
        String all = Files.readString(file, StandardCharsets.UTF_8).replace("\uFEFF", "");
        List<TrainingExample> out = new ArrayList<>();
        for (String story : all.split("<\\|endoftext\\|>")) {
            String s = story.strip().replaceAll("\\s+", " ");
            int end = s.indexOf(". ");
            if (end < 0) {
                continue;
            }
            int[] prompt = tokenizer.encode(s.substring(0, end + 1), true, false);
            int[] rest = tokenizer.encode(s.substring(end + 1), false, false);
            int n = Math.min(MAX_TOKENS, prompt.length + rest.length);
            if (prompt.length + 2 > n) {
                continue;
            }
            int[] tokens = Arrays.copyOf(prompt, n);
            System.arraycopy(rest, 0, tokens, prompt.length, n - prompt.length);
            out.add(new TrainingExample(tokens, prompt.length, "story " + out.size()));
            if (out.size() == count) {
                break;
            }
        }
        return out;
    }
}
