package dev.buddy.router.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import dev.buddy.router.lora.LoraConfig;
import dev.buddy.router.lora.LoraFile;

/**
 * {@code buddy train-router}: trains a BUDDY Decision Module for a model and writes a router file, ready for the CLI
 * to wire to its argument parser. Progress goes to {@code progress} (stderr), the summary to {@code out}.
 *
 * <p>The prior is estimated first on the first {@code priorSequences} examples of {@code priorData} (the training
 * data when not given), unless the run resumes, in which case the checkpoint's prior is reused so a resumed run is
 * the same run.
 */
public final class TrainRouterCommand {

    /**
     * @param model           base model GGUF
     * @param data            training data: {@code .json} Alpaca array, {@code .jsonl}, or plain text
     * @param output          router file to write; the checkpoint goes to {@code output + ".ckpt"}
     * @param budgets         training budgets b
     * @param steps           optimiser steps
     * @param learningRate    peak learning rate
     * @param warmupSteps     warm-up steps
     * @param batchSize       examples per step
     * @param seed            run seed
     * @param resume          continue from the checkpoint beside {@code output}
     * @param maxTokens       longest sequence; longer examples are cut
     * @param threads         kernel threads
     * @param relaxation      straight-through relaxation
     * @param prior           {@code taylor} (the paper's default), {@code dppl}, {@code cosine}, {@code none}, or a prior
     *                        file from {@code buddy prior} (or a BUDDY router) whose prior to reuse
     * @param priorData       calibration text for the prior, or null for the training data
     * @param priorSequences  calibration sequences
     * @param checkpointEvery checkpoint interval in steps (0: only at the end)
     * @param init            how the Decision Module starts (random, or prior: output layer zero)
     * @param validation      held-out text for checkpoint selection ({@link Validation}), or null for none
     * @param validationEvery steps between held-out scorings
     * @param validationTokens held-out tokens: the text's first N, in windows of {@code maxTokens}
     * @param secantBlocks    blocks per side of the top-k cut whose gate gradient is measured ({@link
     *                        TrainConfig#secantBlocks}); 0 for the analytic slope everywhere
     */
    public record Options(Path model, Path data, Path output, double[] budgets, int steps, double learningRate,
                          int warmupSteps, int batchSize, long seed, boolean resume, int maxTokens, int threads,
                          GateRelaxation relaxation, String prior, Path priorData, int priorSequences,
                          int checkpointEvery, RouterInit init, Path validation, int validationEvery,
                          int validationTokens, int secantBlocks) {
        public Options {
            budgets = budgets.clone();
            if (validation != null && (validationEvery < 1 || validationTokens < 2)) {
                throw new InvalidTrainingOptionException("validation needs an interval of at least 1 step and at"
                        + " least 2 tokens; got every " + validationEvery + ", " + validationTokens + " tokens");
            }
        }

        /** The paper's settings (see {@link TrainConfig#defaults}) with a Taylor prior on 64 sequences. */
        public static Options defaults(Path model, Path data, Path output) {
            TrainConfig d = TrainConfig.defaults(1000);
            return new Options(model, data, output, d.budgets(), d.steps(), d.learningRate(), d.warmupSteps(),
                    d.batchSize(), d.seed(), false, d.maxTokens(), d.threads(), d.relaxation(),
                    PriorKind.TAYLOR.fileName(), null, 64, d.checkpointEvery(), d.init(), null, 10, 1024,
                    d.secantBlocks());
        }

        @Override
        public double[] budgets() {
            return budgets.clone();
        }

        /** The training settings these options describe. */
        public TrainConfig config() {
            TrainConfig d = TrainConfig.defaults(steps);
            return new TrainConfig(budgets, steps, learningRate, warmupSteps, batchSize, seed, maxTokens,
                    d.weightDecay(), d.maxGradNorm(), relaxation, d.probeSkipped(), d.featureSource(), d.pooling(),
                    d.hiddenDim(), d.omega(), checkpointEvery, threads, init, secantBlocks);
        }
    }

    /**
     * @param result     the training result
     * @param prior      the prior used
     * @param outputFile the router file written
     */
    public record Summary(RouterTrainer.Result result, Prior prior, Path outputFile) {}

    private TrainRouterCommand() {}

    public static Summary run(Options options, PrintStream out, PrintStream progress) throws IOException {
        return run(options, null, out, progress);
    }

    /**
     * As {@link #run(Options, PrintStream, PrintStream)}, also training LoRA adapters when {@code lora} is not null
     * ({@code --lora R}); they are written beside the router as {@link LoraFile#besideRouter}.
     */
    public static Summary run(Options options, LoraConfig lora, PrintStream out, PrintStream progress)
            throws IOException {
        TrainConfig config = options.config();
        RouterTrainer.requireSomethingTrains(config, lora); // before the model, data and prior cost anything
        try (FrozenModel model = FrozenModel.open(options.model())) {
            TrainingData data = TrainingData.open(options.data(), model.tokenizer(), config.maxTokens());
            Prior prior = prior(options, model);
            Validation validation = validation(options, model, config);
            RouterTrainer.Result result = RouterTrainer.train(model, data, config, prior, options.output(),
                    options.resume(), progress, lora, validation);
            double[] losses = result.stepLosses();
            int window = Math.max(1, Math.min(50, losses.length / 4));
            out.printf(Locale.ROOT, "wrote %s: %d-block router, prior %s %s%n", options.output(),
                    model.spec().blockCount(), prior.kind(), Arrays.toString(prior.values()));
            if (lora != null) {
                out.printf(Locale.ROOT, "wrote %s: LoRA rank %d, alpha %s on %s of every block%n",
                        LoraFile.besideRouter(options.output()), lora.rank(), lora.alpha(), lora.targetList());
            }
            out.printf(Locale.ROOT,
                    "training loss: first %d steps %.4f, last %d steps %.4f; %,d tokens, %.0f tok/s%s%n",
                    window, mean(losses, 0, window), window, mean(losses, losses.length - window, losses.length),
                    result.tokens(), result.tokensPerSecond(),
                    result.skippedExamples() > 0 ? "; " + result.skippedExamples()
                            + " examples had no scored token within the length limit and were skipped" : "");
            Path best = Validation.bestPathFor(options.output());
            result.bestValidation().ifPresent(point -> out.printf(Locale.ROOT,
                    "best held-out router: step %d, geometric-mean perplexity %.4f over budgets %s%s; wrote %s%s%n",
                    point.step(), point.score(), Arrays.toString(validation.budgets()),
                    lora == null ? "" : " (scored with its adapters)", best,
                    lora == null ? "" : " and " + LoraFile.besideRouter(best)));
            return new Summary(result, prior, options.output());
        }
    }

    /** The held-out windows: the text's first N tokens in windows of the training length, scored at b < 1. */
    private static Validation validation(Options options, FrozenModel model, TrainConfig config) throws IOException {
        if (options.validation() == null) {
            return null;
        }
        int[] tokens = dev.buddy.router.baseline.CalibrationTokens.load(options.validation(), model.tokenizer(),
                options.validationTokens());
        TrainingData windows = PriorCommand.windows(tokens, config.maxTokens(),
                options.validation().getFileName().toString());
        return new Validation(windows, Validation.routedBudgets(config.budgets()), options.validationEvery());
    }

    private static Prior prior(Options options, FrozenModel model) throws IOException {
        int middle = model.spec().blockCount() - 2;
        Path checkpoint = TrainingCheckpoint.pathFor(options.output());
        if (options.resume() && Files.exists(checkpoint)) {
            return TrainingCheckpoint.read(checkpoint).prior();
        }
        if ("none".equalsIgnoreCase(options.prior())) {
            return Prior.none(middle);
        }
        Path priorFile = Path.of(options.prior());
        if (Files.isRegularFile(priorFile)) {
            // A file from buddy prior (or any BUDDY router): reuse its prior instead of measuring one.
            return PriorFile.read(priorFile, model.baseInfo());
        }
        PriorKind kind;
        try {
            kind = PriorKind.fromName(options.prior());
        } catch (IllegalArgumentException e) {
            throw new InvalidTrainingOptionException("--prior " + options.prior() + ": no such file, and not one of"
                    + " taylor, dppl, cosine, none");
        }
        if (kind == PriorKind.SLEB) {
            throw new InvalidTrainingOptionException("--prior sleb needs SLEB's search: write a prior file with"
                    + " buddy prior --method sleb -o FILE and pass --prior FILE");
        }
        Path source = options.priorData() != null ? options.priorData() : options.data();
        TrainingData all = TrainingData.open(source, model.tokenizer(), options.maxTokens());
        TrainingData calibration = all.slice(0, Math.min(all.size(), Math.max(1, options.priorSequences())));
        return PriorEstimator.estimate(model, calibration, kind, options.threads()).prior();
    }

    private static double mean(double[] a, int from, int to) {
        double s = 0;
        int n = 0;
        for (int i = Math.max(0, from); i < to; i++) {
            if (!Double.isNaN(a[i])) {
                s += a[i];
                n++;
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }
}
