package dev.buddy.router.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.Budget;
import dev.buddy.router.BudgetPredictor;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.RouterFile;
import dev.buddy.router.TwoLayerMlp;

/**
 * Trains BUDDY's Budget Predictor with the paper's GRPO (§4.4, App. C.4, D.7), the base model and the Decision
 * Module frozen. Per prompt: the policy π(k | G) (a {@link PredictorPolicy} over the prompt's layer-0 features)
 * samples a group of G actions; each runs the frozen model teacher-forced under the router's top-k mask for
 * b(k) = (k+2)/L ({@link BudgetRollout}); the reward is {@code r = −λ_perf·CE − λ_cost·b}; the advantage is the
 * group-normalised {@code A = (r − μ)/(σ + ε)}; the loss is {@code −(1/G)·Σ_j A_j·log π(k_j) − β·H(π)}, averaged
 * over the prompts of the batch; Adam (no weight decay, constant learning rate).
 *
 * <p>Sampling uses a random stream that is a pure function of (seed, step, slot) and the data order is
 * {@link ExampleOrder}'s, so a fixed seed repeats bit for bit and a checkpointed run resumes exactly.
 */
public final class PredictorTrainer {
    /**
     * @param router          the input router with the trained predictor added (fingerprint and everything else kept)
     * @param stepLosses      the GRPO loss of every completed step, from step 0 (NaN for a step with no scored
     *                        example)
     * @param stepRewards     mean sampled reward of each step this process ran (NaN for the resumed steps)
     * @param stepBudgets     mean sampled budget b of each step this process ran (NaN for the resumed steps)
     * @param tokens          positions run through the model over the whole run, resumed steps included
     * @param tokensPerSecond throughput of this process's steps
     * @param firstStep       the step this process started at (0 unless resumed)
     * @param skippedExamples examples with no scored token in this process's steps
     */
    public record Result(DynamicRouter router, double[] stepLosses, double[] stepRewards, double[] stepBudgets,
                         long tokens, double tokensPerSecond, int firstStep, int skippedExamples) {}

    private final FrozenModel model;
    private final DynamicRouter router;
    private final TrainingData data;
    private final PredictorConfig config;
    private final int layers;
    private final RouterParameters shape;

    private PredictorTrainer(FrozenModel model, DynamicRouter router, TrainingData data, PredictorConfig config) {
        router.requireCompatible(model.baseInfo());
        this.model = model;
        this.router = router;
        this.data = data;
        this.config = config;
        this.layers = router.layerCount();
        Budget.requireRoutableDepth(layers);
        this.shape = new RouterParameters(router.decision().featureDim(), config.hiddenDim(), layers - 2);
    }

    /**
     * Trains and writes {@code router} with the predictor to {@code output} (and a checkpoint beside it every
     * {@link PredictorConfig#checkpointEvery()} steps and at the end).
     *
     * @param resume   continue from the checkpoint beside {@code output}
     * @param progress where the progress bar goes (stderr), or null for none
     * @throws CheckpointException if resuming and the checkpoint is missing or from a different run
     */
    public static Result train(FrozenModel model, DynamicRouter router, TrainingData data, PredictorConfig config,
                               Path output, boolean resume, PrintStream progress) throws IOException {
        return train(model, router, data, config, output, resume, progress, config.steps());
    }

    /** As {@link #train}, stopping before step {@code untilStep} as an interrupted run would. */
    static Result train(FrozenModel model, DynamicRouter router, TrainingData data, PredictorConfig config,
                        Path output, boolean resume, PrintStream progress, int untilStep) throws IOException {
        return new PredictorTrainer(model, router, data, config).run(output, resume, progress, untilStep);
    }

    /**
     * The predictor a run starts from: PyTorch's {@code nn.Linear} initialisation U(±1/√fan_in) from the run's
     * seed, except that the output layer starts at zero so that π starts exactly uniform (as the paper's Fig. 12
     * entropy of ln(L−2) at step 0 suggests) and no budget is favoured before any reward was seen.
     */
    static float[] initialParams(RouterParameters shape, long seed) {
        SplittableRandom random = new SplittableRandom(ExampleOrder.mix(seed, 0x9E_D1C7L, 0));
        float[] p = new float[shape.size];
        double bound = 1.0 / Math.sqrt(shape.inputDim);
        for (int i = shape.w1Offset; i < shape.w2Offset; i++) {
            p[i] = (float) random.nextDouble(-bound, bound);
        }
        return p;
    }

    /** {@code router} with {@code predictor} added (or replacing its predictor); name and provenance kept. */
    public static DynamicRouter withPredictor(DynamicRouter router, TwoLayerMlp predictor) {
        return new DynamicRouter(router.name(), router.decision(),
                Optional.of(new BudgetPredictor(router.layerCount(), predictor)), router.provenance());
    }

    private Result run(Path output, boolean resume, PrintStream progress, int untilStep) throws IOException {
        Path checkpointPath = TrainingCheckpoint.pathFor(output);
        String runIdentity = runIdentity();
        Prior routerPrior = new Prior(router.provenance().priorKind(), router.decision().prior());
        AdamW adam = new AdamW(shape.size, 0.0);
        double[] losses = new double[config.steps()];
        double[] rewards = new double[config.steps()];
        double[] budgets = new double[config.steps()];
        Arrays.fill(rewards, Double.NaN);
        Arrays.fill(budgets, Double.NaN);
        float[] params;
        int firstStep = 0;
        long tokens = 0;
        if (resume) {
            TrainingCheckpoint.State s = TrainingCheckpoint.read(checkpointPath);
            requireSameRun(checkpointPath, s, runIdentity, routerPrior);
            params = s.params();
            adam.restore(s.step(), s.firstMoment(), s.secondMoment());
            System.arraycopy(s.lossHistory(), 0, losses, 0, s.step());
            firstStep = s.step();
            tokens = s.tokens();
        } else {
            params = initialParams(shape, config.seed());
        }
        int lastStep = Math.min(untilStep, config.steps());
        int capacity = config.maxTokens();
        int group = config.groupSize();
        int skipped = 0;
        ExampleOrder order = new ExampleOrder(config.seed(), data.size());
        ProgressBar bar = new ProgressBar(progress, firstStep, config.steps());
        if (progress != null) {
            progress.println("GRPO for the budget predictor of " + router.name() + " on " + data.describe() + ": "
                    + config);
            if (firstStep > 0) {
                progress.println("resuming at step " + firstStep + " from " + checkpointPath);
            }
        }
        try (Parallel pool = new Parallel(config.threads())) {
            BudgetRollout rollout = new BudgetRollout(model, router.decision(), capacity, pool);
            PredictorPolicy policy = new PredictorPolicy(shape, layers, capacity);
            int[] batch = new int[config.batchSize()];
            int[] chosen = new int[group];
            double[] groupRewards = new double[group];
            double[] advantages = new double[group];
            double[] gradient = new double[shape.size];
            for (int step = firstStep; step < lastStep; step++) {
                order.indices(step, batch);
                int scored = 0;
                for (int index : batch) {
                    scored += data.example(index).targetCount() > 0 ? 1 : 0;
                }
                Arrays.fill(gradient, 0.0);
                long tokensBefore = rollout.forwardTokens();
                double lossSum = 0;
                double rewardSum = 0;
                double budgetSum = 0;
                for (int slot = 0; slot < batch.length; slot++) {
                    TrainingExample e = data.example(batch[slot]);
                    if (e.targetCount() == 0) {
                        skipped++;
                        continue;
                    }
                    rollout.prepare(e);
                    double[] pi = policy.forward(params, rollout.features(), rollout.promptLength());
                    SplittableRandom random = new SplittableRandom(ExampleOrder.mix(config.seed(), step, slot));
                    for (int j = 0; j < group; j++) {
                        chosen[j] = sample(pi, random.nextDouble()) + 1;
                        groupRewards[j] = rollout.reward(chosen[j], config.lambdaPerf(), config.lambdaCost());
                        rewardSum += groupRewards[j];
                        budgetSum += Budget.fractionForMiddleBlocks(chosen[j], layers);
                    }
                    groupAdvantages(groupRewards, config.advantageEps(), advantages);
                    lossSum += policy.backward(params, rollout.features(), chosen, advantages, config.entropyBeta(),
                            1.0 / scored, gradient);
                }
                long stepTokens = rollout.forwardTokens() - tokensBefore;
                if (scored > 0) {
                    adam.step(params, gradient, config.learningRate());
                    losses[step] = lossSum / scored;
                    rewards[step] = rewardSum / (scored * group);
                    budgets[step] = budgetSum / (scored * group);
                } else {
                    losses[step] = Double.NaN;
                }
                tokens += stepTokens;
                bar.update(step, losses[step], stepTokens, String.format(Locale.ROOT, "reward %.3f b %.3f",
                        rewards[step], budgets[step]));
                boolean end = step + 1 == lastStep;
                boolean due = config.checkpointEvery() > 0 && (step + 1) % config.checkpointEvery() == 0;
                if (end || due) {
                    save(output, checkpointPath, runIdentity, routerPrior, step + 1, tokens, params, adam, losses);
                }
            }
        }
        if (progress != null && firstStep >= lastStep) {
            progress.println("nothing to do: the checkpoint is at step " + firstStep + " of " + config.steps());
        }
        int done = Math.max(firstStep, lastStep);
        return new Result(withPredictor(router, shape.toMlp(params)), Arrays.copyOf(losses, done),
                Arrays.copyOf(rewards, done), Arrays.copyOf(budgets, done), tokens, bar.tokensPerSecond(), firstStep,
                skipped);
    }

    /** Index a with Σ_{i<a} π_i ≤ u < Σ_{i≤a} π_i (inverse CDF); the last action takes any rounding remainder. */
    static int sample(double[] pi, double u) {
        double cumulative = 0;
        for (int a = 0; a < pi.length - 1; a++) {
            cumulative += pi[a];
            if (u < cumulative) {
                return a;
            }
        }
        return pi.length - 1;
    }

    /** A_j = (r_j − μ)/(σ + ε), σ the population standard deviation of the group. */
    static void groupAdvantages(double[] rewards, double eps, double[] out) {
        int g = rewards.length;
        double mean = 0;
        for (double r : rewards) {
            mean += r;
        }
        mean /= g;
        double variance = 0;
        for (double r : rewards) {
            variance += (r - mean) * (r - mean);
        }
        double sigma = Math.sqrt(variance / g);
        for (int j = 0; j < g; j++) {
            out[j] = (rewards[j] - mean) / (sigma + eps);
        }
    }

    private String runIdentity() {
        return config.runIdentity() + ", router=" + routerIdentity(router);
    }

    /** A hash of the frozen Decision Module (weights, prior, ω): what a checkpoint or a budget table was made with. */
    static String routerIdentity(DynamicRouter router) {
        TwoLayerMlp mlp = router.decision().mlp();
        int routerHash = Arrays.hashCode(new int[] {Arrays.hashCode(mlp.w1()), Arrays.hashCode(mlp.b1()),
                Arrays.hashCode(mlp.w2()), Arrays.hashCode(mlp.b2()), Arrays.hashCode(router.decision().prior()),
                Float.hashCode(router.decision().omega())});
        return Integer.toHexString(routerHash);
    }

    private void requireSameRun(Path path, TrainingCheckpoint.State s, String runIdentity, Prior routerPrior) {
        if (!s.baseFingerprint().equals(router.provenance().baseFingerprint())) {
            throw new CheckpointException(path + " was made for a different base model");
        }
        if (!s.run().equals(runIdentity)) {
            throw new CheckpointException(path + " is from a run with different settings: "
                    + TrainingCheckpoint.differences(s.run(), runIdentity));
        }
        if (!s.data().equals(data.describe())) {
            throw new CheckpointException(path + " was trained on " + s.data() + ", not " + data.describe());
        }
        if (!s.prior().equals(routerPrior) || s.params().length != shape.size) {
            throw new CheckpointException(path + " belongs to a different router");
        }
    }

    private void save(Path output, Path checkpointPath, String runIdentity, Prior routerPrior, int stepsDone,
                      long tokens, float[] params, AdamW adam, double[] losses) throws IOException {
        // The router first: a checkpoint never claims more steps than the router file beside it holds.
        RouterFile.write(withPredictor(router, shape.toMlp(params)), output);
        TrainingCheckpoint.write(checkpointPath, new TrainingCheckpoint.State(stepsDone, tokens, runIdentity,
                data.describe(), router.provenance().baseFingerprint(), routerPrior, params.clone(),
                adam.firstMoment().clone(), adam.secondMoment().clone(), Arrays.copyOf(losses, stepsDone)));
    }
}
