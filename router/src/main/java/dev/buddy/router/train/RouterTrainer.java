package dev.buddy.router.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Budget;
import dev.buddy.router.DecisionModule;
import dev.buddy.router.DynamicRouter;
import dev.buddy.router.Provenance;
import dev.buddy.router.RandomRouter;
import dev.buddy.router.RouterFile;
import dev.buddy.router.lora.LoraAdapters;
import dev.buddy.router.lora.LoraConfig;
import dev.buddy.router.lora.LoraFile;

/**
 * Trains a BUDDY Decision Module on a frozen base model (paper §4.2.3, §5.1): next-token cross-entropy on the scored
 * tokens, each example routed under a budget drawn uniformly from the training set of budgets, the hard top-k mask in
 * the forward pass and a {@link GateRelaxation straight-through} gradient in the backward pass (from the analytic
 * gate slopes, or with {@link TrainConfig#secantBlocks} from the measured effect of switching the blocks at the cut:
 * {@link SecantGateProbe}), AdamW with linear warm-up and decay, global-norm clipping.
 *
 * <p>Per example: embed, run block 0, read its layer-0 features, route them (exactly as inference routes a prefill),
 * run the remaining blocks gated by the mask (skipped blocks probed for their gate gradient), score the loss, back-
 * propagate to the gates of the middle blocks, and through the relaxation, pooling and MLP to the router's weights.
 * The base model is never updated. (The paper also trains LoRA adapters on the backbone; by default this trainer
 * keeps the backbone exactly as shipped, so the router works with the unmodified GGUF file. With a
 * {@link LoraConfig} it trains adapters too, kept in their own file beside the router: see {@link LoraTraining}.)
 *
 * <p>The loss of a step is the mean over all scored tokens of its batch, as the Hugging Face Trainer computes it.
 * Example order is a fresh seeded permutation per epoch and every budget draw is a pure function of (seed, step,
 * slot), so a checkpointed run resumes bit for bit and two runs with the same seed on the same machine are identical
 * (the kernels give every output element to one thread, so the thread count does not change results).
 */
public final class RouterTrainer {
    /** Method name recorded in the router file. */
    public static final String METHOD = "buddy";

    /**
     * @param router          the trained router
     * @param stepLosses      mean training loss of every completed step, from step 0
     * @param tokens          positions processed over the whole run, resumed steps included
     * @param tokensPerSecond throughput of this process's steps
     * @param firstStep       the step this process started at (0 unless resumed)
     * @param skippedExamples examples with no scored token (skipped) in this process's steps
     * @param validation      this process's held-out scorings, in order (empty without {@link Validation})
     */
    public record Result(DynamicRouter router, double[] stepLosses, long tokens, double tokensPerSecond,
                         int firstStep, int skippedExamples, List<Validation.Point> validation) {
        public Result {
            validation = List.copyOf(validation);
        }

        /** The best held-out scoring of this process, if any. */
        public Optional<Validation.Point> bestValidation() {
            return validation.stream().min(Comparator.comparingDouble(Validation.Point::score));
        }
    }

    private final FrozenModel model;
    private final TrainingData data;
    private final TrainConfig config;
    private final Prior prior;
    private final BaseModelInfo base;
    private final int layers;
    private final int middle;
    private final int featureDim;
    private final RouterParameters shape;
    /** LoRA adapters trained alongside the router ({@code --lora}), or null. */
    private final LoraConfig lora;

    /**
     * A learning rate of 0 freezes the router, which only makes sense while adapters train at a rate of their own.
     *
     * @throws InvalidTrainingOptionException for a run that would train nothing
     */
    static void requireSomethingTrains(TrainConfig config, LoraConfig lora) {
        if (config.learningRate() == 0 && (lora == null || !(lora.learningRate(0) > 0))) {
            throw new InvalidTrainingOptionException("--lr 0 freezes the router, so it needs --lora R and a positive"
                    + " --lora-lr to train anything");
        }
    }

    private RouterTrainer(FrozenModel model, TrainingData data, TrainConfig config, Prior prior) {
        this(model, data, config, prior, null);
    }

    private RouterTrainer(FrozenModel model, TrainingData data, TrainConfig config, Prior prior, LoraConfig lora) {
        this.lora = lora;
        this.model = model;
        this.data = data;
        this.config = config;
        this.prior = prior;
        this.base = model.baseInfo();
        this.layers = base.layerCount();
        Budget.requireRoutableDepth(layers);
        this.middle = layers - 2;
        if (prior.values().length != middle) {
            throw new IllegalArgumentException("prior has " + prior.values().length + " values, the model has "
                    + middle + " middle blocks");
        }
        this.featureDim = base.featureDim(config.featureSource());
        this.shape = new RouterParameters(featureDim, config.hiddenDim(), middle);
    }

    /**
     * Trains and writes the router to {@code output} (and a checkpoint beside it every
     * {@link TrainConfig#checkpointEvery()} steps and at the end).
     *
     * @param resume   continue from the checkpoint beside {@code output}
     * @param progress where the progress bar goes (stderr), or null for none
     * @throws CheckpointException if resuming and the checkpoint is missing or from a different run
     */
    public static Result train(FrozenModel model, TrainingData data, TrainConfig config, Prior prior, Path output,
                               boolean resume, PrintStream progress) throws IOException {
        return train(model, data, config, prior, output, resume, progress, (Validation) null);
    }

    /**
     * As {@link #train}, also scoring the router on held-out text every {@link Validation#every()} steps (and at the
     * start and the end) and keeping the best so far in {@link Validation#bestPathFor}, written atomically. A
     * resumed run rescores the best file it finds, so the selection continues where it stopped. The scoring never
     * changes the training itself: the same seed gives the same final router with or without it.
     *
     * @param validation held-out selection, or null for none
     */
    public static Result train(FrozenModel model, TrainingData data, TrainConfig config, Prior prior, Path output,
                               boolean resume, PrintStream progress, Validation validation) throws IOException {
        return new RouterTrainer(model, data, config, prior).run(output, resume, progress, config.steps(),
                validation);
    }

    /** As {@link #train}, stopping after step {@code untilStep} (exclusive) as an interrupted run would. */
    static Result train(FrozenModel model, TrainingData data, TrainConfig config, Prior prior, Path output,
                        boolean resume, PrintStream progress, int untilStep) throws IOException {
        return new RouterTrainer(model, data, config, prior).run(output, resume, progress, untilStep, null);
    }

    /** As {@link #train(FrozenModel, TrainingData, TrainConfig, Prior, Path, boolean, PrintStream, Validation)},
     * stopping after step {@code untilStep} (exclusive). */
    static Result train(FrozenModel model, TrainingData data, TrainConfig config, Prior prior, Path output,
                        boolean resume, PrintStream progress, int untilStep, Validation validation)
            throws IOException {
        return new RouterTrainer(model, data, config, prior).run(output, resume, progress, untilStep, validation);
    }

    /**
     * As {@link #train}, also training LoRA adapters on the frozen model's projections ({@code lora} not null): see
     * {@link LoraTraining}. The adapters go to {@link LoraFile#besideRouter} of {@code output}, written with the
     * router at every checkpoint.
     */
    public static Result train(FrozenModel model, TrainingData data, TrainConfig config, Prior prior, Path output,
                               boolean resume, PrintStream progress, LoraConfig lora) throws IOException {
        return train(model, data, config, prior, output, resume, progress, config.steps(), lora);
    }

    /** As {@link #train(FrozenModel, TrainingData, TrainConfig, Prior, Path, boolean, PrintStream, LoraConfig)}, stopping early. */
    static Result train(FrozenModel model, TrainingData data, TrainConfig config, Prior prior, Path output,
                        boolean resume, PrintStream progress, int untilStep, LoraConfig lora) throws IOException {
        return new RouterTrainer(model, data, config, prior, lora).run(output, resume, progress, untilStep, null);
    }

    /** LoRA adapters ({@code lora}, or null for none) and held-out selection ({@code validation}, or null) together. */
    public static Result train(FrozenModel model, TrainingData data, TrainConfig config, Prior prior, Path output,
                               boolean resume, PrintStream progress, LoraConfig lora, Validation validation)
            throws IOException {
        return new RouterTrainer(model, data, config, prior, lora).run(output, resume, progress, config.steps(),
                validation);
    }

    /** The router a run starts from: what {@link RandomRouter} makes with the run's seed, plus the prior. */
    public static DynamicRouter initialRouter(FrozenModel model, TrainConfig config, Prior prior) {
        RouterTrainer t = new RouterTrainer(model, null, config, prior);
        return t.router(t.initialParams(), false, "initial(seed=" + config.seed() + ")");
    }

    private float[] initialParams() {
        float[] p = randomParams();
        if (config.init() == RouterInit.PRIOR) {
            // Output layer zero: every score s is 0, so s' = ω·p̃ and the untrained router is the prior-only route.
            Arrays.fill(p, shape.w2Offset, shape.size, 0f);
        }
        return p;
    }

    private float[] randomParams() {
        if (config.hiddenDim() == DecisionModule.DEFAULT_HIDDEN) {
            DynamicRouter random = RandomRouter.create(layers, featureDim, base.fingerprint(), base.architecture(),
                    config.seed(), config.featureSource(), config.pooling(), false);
            return shape.flatten(random.decision().mlp());
        }
        // RandomRouter's scheme (PyTorch nn.Linear: U(±1/√fan_in)) for a non-default width.
        SplittableRandom random = new SplittableRandom(config.seed());
        float[] p = new float[shape.size];
        fillUniform(random, p, shape.w1Offset, shape.b1Offset, featureDim);
        fillUniform(random, p, shape.b1Offset, shape.w2Offset, featureDim);
        fillUniform(random, p, shape.w2Offset, shape.b2Offset, shape.hiddenDim);
        fillUniform(random, p, shape.b2Offset, shape.size, shape.hiddenDim);
        return p;
    }

    private static void fillUniform(SplittableRandom random, float[] p, int from, int to, int fanIn) {
        double bound = 1.0 / Math.sqrt(fanIn);
        for (int i = from; i < to; i++) {
            p[i] = (float) random.nextDouble(-bound, bound);
        }
    }

    private DynamicRouter router(float[] params, boolean trained, String name) {
        DecisionModule module = new DecisionModule(layers, shape.toMlp(params), prior.values(), config.omega(),
                config.featureSource(), config.pooling());
        float[] budgets = new float[config.budgets().length];
        for (int i = 0; i < budgets.length; i++) {
            budgets[i] = (float) config.budgets()[i];
        }
        Provenance provenance = new Provenance(base.fingerprint(), base.architecture(), trained,
                trained ? budgets : new float[0], trained ? METHOD : RandomRouter.METHOD, prior.kind());
        return new DynamicRouter(name, module, Optional.empty(), provenance);
    }

    private Result run(Path output, boolean resume, PrintStream progress, int untilStep, Validation validation)
            throws IOException {
        requireSomethingTrains(config, lora);
        Path checkpointPath = TrainingCheckpoint.pathFor(output);
        String runIdentity = TrainingCheckpoint.runIdentity(config) + (lora == null ? "" : ", " + lora.describe());
        float[] params;
        AdamW adam = new AdamW(shape.size, config.weightDecay());
        double[] losses = new double[config.steps()];
        int firstStep = 0;
        long tokens = 0;
        if (resume) {
            TrainingCheckpoint.State s = TrainingCheckpoint.read(checkpointPath);
            requireSameRun(checkpointPath, s, runIdentity);
            params = s.params();
            adam.restore(s.step(), s.firstMoment(), s.secondMoment());
            for (int i = 0; i < s.step(); i++) {
                losses[i] = s.lossHistory()[i];
            }
            firstStep = s.step();
            tokens = s.tokens();
        } else {
            params = initialParams();
        }
        LoraTraining adapters = lora == null ? null
                : new LoraTraining(model, lora, config, resume ? checkpointPath : null, firstStep);
        LearningRateSchedule schedule = new LearningRateSchedule(config.learningRate(), config.warmupSteps(),
                config.steps());
        int capacity = config.maxTokens();
        int skipped = 0;
        int lastStep = Math.min(untilStep, config.steps());
        ProgressBar bar = new ProgressBar(progress, firstStep, config.steps());
        if (progress != null) {
            progress.println("training " + middle + "-block router on " + data.describe() + ": " + config);
            if (firstStep > 0) {
                progress.println("resuming at step " + firstStep + " from " + checkpointPath);
            }
        }
        List<Validation.Point> scorings = new ArrayList<>();
        try (Parallel pool = new Parallel(config.threads())) {
            Selection selection = validation == null ? null
                    : new Selection(validation, output, pool, progress, scorings, adapters);
            if (selection != null) {
                selection.start(firstStep, params);
            }
            ModelPass pass = new ModelPass(model, capacity, pool);
            StepBuffers buffers = new StepBuffers(capacity, featureDim, layers, shape.size,
                    config.secantBlocks());
            if (adapters != null) {
                adapters.attach(pass);
            }
            DecisionPass decision = new DecisionPass(shape, layers, capacity);
            int[] batch = new int[config.batchSize()];
            for (int step = firstStep; step < lastStep; step++) {
                exampleIndices(step, batch);
                long stepTokens = 0;
                long targets = 0;
                for (int index : batch) {
                    TrainingExample e = data.example(index);
                    targets += e.targetCount();
                }
                Arrays.fill(buffers.gradient, 0.0);
                if (adapters != null) {
                    adapters.zeroGradient();
                }
                double lossSum = 0;
                if (targets > 0) {
                    float scale = (float) (1.0 / targets);
                    DecisionModule module = new DecisionModule(layers, shape.toMlp(params), prior.values(),
                            config.omega(), config.featureSource(), config.pooling());
                    for (int slot = 0; slot < batch.length; slot++) {
                        TrainingExample e = data.example(batch[slot]);
                        if (e.targetCount() == 0) {
                            skipped++;
                            continue;
                        }
                        int k = Budget.fraction(budgetFor(step, slot)).middleBlocks(layers);
                        lossSum += exampleStep(pass, decision, module, params, e, k, scale, buffers);
                        stepTokens += e.length();
                    }
                    if (config.learningRate() == 0) {
                        // A frozen router takes no step, so its gradient must not shrink the adapters' clip either.
                        Arrays.fill(buffers.gradient, 0.0);
                    }
                    if (adapters != null) {
                        // One global norm over the router's and the adapters' gradients, as one model's would be.
                        adapters.clipWith(buffers.gradient, config.maxGradNorm());
                        adapters.step(step);
                    } else {
                        clip(buffers.gradient, config.maxGradNorm());
                    }
                    adam.step(params, buffers.gradient, schedule.rate(step));
                } else {
                    skipped += batch.length;
                }
                double loss = targets > 0 ? lossSum / targets : Double.NaN;
                losses[step] = loss;
                tokens += stepTokens;
                bar.update(step, loss, stepTokens);
                boolean end = step + 1 == lastStep;
                boolean due = config.checkpointEvery() > 0 && (step + 1) % config.checkpointEvery() == 0;
                if (end || due) {
                    save(output, checkpointPath, runIdentity, step + 1, tokens, params, adam, losses, adapters);
                }
                if (selection != null && (end || (step + 1) % validation.every() == 0)) {
                    selection.score(step + 1, params);
                }
            }
            if (progress != null && buffers.secant != null && firstStep < lastStep) {
                progress.println(buffers.secant.describe());
            }
        }
        if (progress != null && firstStep >= lastStep) {
            progress.println("nothing to do: the checkpoint is at step " + firstStep + " of " + config.steps());
        }
        DynamicRouter router = router(params, true, routerName());
        return new Result(router, Arrays.copyOf(losses, Math.max(firstStep, lastStep)), tokens,
                bar.tokensPerSecond(), firstStep, skipped, scorings);
    }

    /** Held-out scoring and the best-so-far file of one run. */
    private final class Selection {
        private final Validation validation;
        private final Path bestPath;
        private final Parallel pool;
        private final PrintStream progress;
        private final List<Validation.Point> scorings;
        /** The adapters trained with the router, or null: scored with it and kept beside the best file. */
        private final LoraTraining adapters;
        private double bestScore = Double.POSITIVE_INFINITY;

        Selection(Validation validation, Path output, Parallel pool, PrintStream progress,
                  List<Validation.Point> scorings, LoraTraining adapters) {
            this.validation = validation;
            this.adapters = adapters;
            this.bestPath = Validation.bestPathFor(output);
            this.pool = pool;
            this.progress = progress;
            this.scorings = scorings;
        }

        /** A fresh run scores its start; a resumed one rescores the best file it left, if any. */
        void start(int firstStep, float[] params) throws IOException {
            if (firstStep == 0) {
                score(0, params);
            } else if (Files.isRegularFile(bestPath)) {
                DynamicRouter best = (DynamicRouter) RouterFile.load(bestPath, base);
                // The best router is scored with the adapters saved beside it, not the resumed ones.
                Path bestAdapters = LoraFile.besideRouter(bestPath);
                LoraAdapters with = adapters == null ? null
                        : LoraFile.read(bestAdapters, model.spec(), base.fingerprint());
                bestScore = score(best, with).score();
                if (progress != null) {
                    progress.printf(Locale.ROOT, "best so far: %s, held-out geometric-mean perplexity %.4f%n",
                            bestPath, bestScore);
                }
            }
        }

        void score(int step, float[] params) throws IOException {
            DynamicRouter router = router(params, true, routerName() + ", step " + step);
            Validation.Point p = score(router, adapters == null ? null : adapters.adapters());
            boolean best = p.score() < bestScore;
            p = new Validation.Point(step, p.perplexity(), p.score(), best);
            if (best) {
                bestScore = p.score();
                RouterFile.write(router, bestPath);
                if (adapters != null) {
                    adapters.writeAdapterFile(LoraFile.besideRouter(bestPath), base.fingerprint());
                }
            }
            scorings.add(p);
            if (progress != null) {
                progress.println(p.describe(validation.budgets()));
            }
        }

        private Validation.Point score(DynamicRouter router, LoraAdapters with) {
            double[] budgets = validation.budgets();
            double[] perplexity = new double[budgets.length];
            double nll = 0;
            for (int i = 0; i < budgets.length; i++) {
                RoutedEvaluation.Result r = RoutedEvaluation.evaluate(model, validation.data(),
                        SequenceRouting.of(router), Budget.fraction(budgets[i]), pool, with);
                perplexity[i] = r.perplexity();
                nll += r.meanNll();
            }
            return new Validation.Point(-1, perplexity, Math.exp(nll / budgets.length), false);
        }
    }

    /** One example's forward and backward pass; returns its summed NLL and accumulates the router gradient. */
    private double exampleStep(ModelPass pass, DecisionPass decision, DecisionModule module, float[] params,
                               TrainingExample e, int k, float scale, StepBuffers b) {
        int n = e.length();
        if (n > pass.capacity()) {
            throw new TrainingDataException(e.label() + " has " + n + " tokens, more than the run's maximum of "
                    + pass.capacity() + "; open the data with the same maximum");
        }
        pass.embed(e.tokens(), n);
        pass.beginForward(n);
        pass.layer0Features(config.featureSource(), n, b.features);
        decision.forward(module, b.features, n, k);
        boolean[] mask = decision.mask();
        for (int l = 0; l < layers; l++) {
            b.gates[l] = mask[l] ? 1f : 0f;
        }
        pass.finishForward(b.gates, config.probeSkipped());
        e.targets(b.targets);
        double nll = pass.headLoss(b.targets, scale, true);
        // The adapters of blocks 0 and 1 need the backward pass to go through them too.
        pass.backward(lora == null ? 1 : 0, lora != null, b.gateGradients);
        if (b.secant != null) {
            b.secant.scoreGradients(pass, b.gates, decision.fused(), nll, b.targets, e.targetCount(), scale,
                    config.relaxation(), b.scoreGradients);
        } else {
            System.arraycopy(b.gateGradients, 1, b.middleGradients, 0, middle);
            config.relaxation().scoreGradient(decision.fused(), b.middleGradients, middle, b.scoreGradients);
        }
        decision.backward(params, b.features, b.scoreGradients, b.gradient);
        return nll;
    }

    /** Scales the gradient down to the maximum global L2 norm, if it exceeds it. */
    private static void clip(double[] gradient, double maxNorm) {
        if (maxNorm <= 0) {
            return;
        }
        double sq = 0;
        for (double g : gradient) {
            sq += g * g;
        }
        double norm = Math.sqrt(sq);
        if (norm > maxNorm) {
            double factor = maxNorm / norm;
            for (int i = 0; i < gradient.length; i++) {
                gradient[i] *= factor;
            }
        }
    }

    /** The examples of a step: slot i is position {@code step·B + i} of the epoch-wise shuffled order. */
    void exampleIndices(int step, int[] out) {
        int size = data.size();
        for (int i = 0; i < out.length; i++) {
            long position = (long) step * out.length + i;
            out[i] = permutation(position / size, size)[(int) (position % size)];
        }
    }

    private int[] cachedPermutation;
    private long cachedPermutationEpoch = -1;

    private int[] permutation(long epoch, int size) {
        if (epoch != cachedPermutationEpoch) {
            int[] p = new int[size];
            for (int i = 0; i < size; i++) {
                p[i] = i;
            }
            SplittableRandom random = new SplittableRandom(mix(config.seed(), 0x5EED_0F_DA7AL, epoch));
            for (int i = size - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            cachedPermutation = p;
            cachedPermutationEpoch = epoch;
        }
        return cachedPermutation;
    }

    /** The budget of batch slot {@code slot} at {@code step}: uniform over the training budgets. */
    double budgetFor(int step, int slot) {
        double[] budgets = config.budgets();
        SplittableRandom random = new SplittableRandom(mix(config.seed(), step, slot));
        return budgets[random.nextInt(budgets.length)];
    }

    private static long mix(long seed, long a, long b) {
        long h = seed * 0x9E3779B97F4A7C15L + a;
        h = (h ^ (h >>> 31)) * 0xBF58476D1CE4E5B9L + b;
        return (h ^ (h >>> 29)) * 0x94D049BB133111EBL;
    }

    private void requireSameRun(Path path, TrainingCheckpoint.State s, String runIdentity) {
        if (!s.baseFingerprint().equals(base.fingerprint())) {
            throw new CheckpointException(path + " was made for a different base model (fingerprint "
                    + s.baseFingerprint().substring(0, 12) + "…, this model " + base.fingerprint().substring(0, 12)
                    + "…)");
        }
        if (!s.run().equals(runIdentity)) {
            throw new CheckpointException(path + " is from a run with different settings: "
                    + TrainingCheckpoint.differences(s.run(), runIdentity));
        }
        if (!s.data().equals(data.describe())) {
            throw new CheckpointException(path + " was trained on " + s.data() + ", not " + data.describe());
        }
        if (!s.prior().equals(prior)) {
            throw new CheckpointException(path + " was trained with prior " + s.prior() + ", not " + prior);
        }
        if (s.params().length != shape.size) {
            throw new CheckpointException(path + " holds " + s.params().length + " router weights, expected "
                    + shape.size);
        }
    }

    private void save(Path output, Path checkpointPath, String runIdentity, int stepsDone, long tokens,
                      float[] params, AdamW adam, double[] losses, LoraTraining adapters) throws IOException {
        double[] history = Arrays.copyOf(losses, stepsDone);
        // The router (and adapters) first: a checkpoint never claims more steps than the files beside it hold.
        RouterFile.write(router(params, true, routerName()), output);
        if (adapters != null) {
            adapters.writeAdapterFile(LoraFile.besideRouter(output), base.fingerprint());
        }
        TrainingCheckpoint.write(checkpointPath, new TrainingCheckpoint.State(stepsDone, tokens, runIdentity,
                data.describe(), base.fingerprint(), prior, params.clone(), adam.firstMoment().clone(),
                adam.secondMoment().clone(), history), adapters == null ? null : adapters.checkpointState());
    }

    private String routerName() {
        return "buddy(" + data.describe() + ", " + config.steps() + " steps, seed " + config.seed() + ")";
    }

    /** Per-example scratch, allocated once per run. */
    private static final class StepBuffers {
        final float[] features;
        final int[] targets;
        final float[] gates;
        final double[] gateGradients;
        final double[] middleGradients;
        final double[] scoreGradients;
        final double[] gradient;
        final SecantGateProbe secant;

        StepBuffers(int capacity, int featureDim, int layers, int parameters, int secantBlocks) {
            features = new float[capacity * featureDim];
            targets = new int[capacity];
            gates = new float[layers];
            gateGradients = new double[layers];
            middleGradients = new double[layers - 2];
            scoreGradients = new double[layers - 2];
            gradient = new double[parameters];
            secant = secantBlocks > 0 ? new SecantGateProbe(secantBlocks, layers) : null;
        }
    }
}
