package dev.buddy.router.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import dev.buddy.engine.model.Model;
import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Router;
import dev.buddy.router.RouterFile;
import dev.buddy.router.RouterFormatException;
import dev.buddy.router.StaticPlan;
import dev.buddy.router.baseline.BaselineMethod;
import dev.buddy.router.baseline.CalibrationRunner;
import dev.buddy.router.baseline.CalibrationTokens;
import dev.buddy.router.baseline.StaticBaselines;
import dev.buddy.router.eval.ProgressBar;
import dev.buddy.router.eval.ProgressListener;

/**
 * {@code buddy prior}: estimates a per-block importance indicator (taylor, dppl, cosine, or sleb: SLEB's removal
 * order as a ranking, see {@link SlebPrior}) on the first N tokens of a
 * calibration text in independent windows (the convention of {@code buddy prune}: no BOS, each window from position
 * 0), normalises it with the paper's pipeline, prints the raw and normalised value of every middle block with a bar
 * plot, and writes a {@link PriorFile} (a static prior-only plan that also carries p̃ for {@code train-router}).
 */
public final class PriorCommand {
    /** Method name of the static plans this command writes. */
    public static final String METHOD = PriorFile.METHOD;
    /** Width of the bar plot's longest bar, in characters. */
    static final int PLOT_WIDTH = 40;

    /**
     * @param model       base model GGUF
     * @param calibration calibration text (UTF-8)
     * @param kind        the indicator
     * @param tokens      calibration tokens: the text's first N
     * @param window      tokens per independent window
     * @param threads     kernel threads
     * @param output      prior file to write, or null
     */
    public record Options(Path model, Path calibration, PriorKind kind, int tokens, int window, int threads,
                          Path output, int slebMaxDrop, Path slebPlan) {
        /**
         * @param slebMaxDrop for {@code sleb}: how many blocks the search removes (0: all but one)
         * @param slebPlan    for {@code sleb}: a plan from {@code buddy prune --method sleb} whose removal order to
         *                    reuse instead of searching again, or null
         */
        public Options {
            if (tokens < CalibrationTokens.MIN_TOKENS || window < 2 || threads < 1 || slebMaxDrop < 0) {
                throw new InvalidTrainingOptionException("calibration tokens and window must be at least 2,"
                        + " threads at least 1 and SLEB's removals at least 0; got " + tokens + " tokens, window "
                        + window + ", " + threads + " threads, " + slebMaxDrop + " removals");
            }
            if (slebPlan != null && kind != PriorKind.SLEB) {
                throw new InvalidTrainingOptionException("a SLEB plan only feeds the sleb prior, not " + kind.fileName());
            }
        }

        /** Options for the one-pass indicators (taylor, dppl, cosine), or a full SLEB search. */
        public Options(Path model, Path calibration, PriorKind kind, int tokens, int window, int threads,
                       Path output) {
            this(model, calibration, kind, tokens, window, threads, output, 0, null);
        }
    }

    private PriorCommand() {}

    /**
     * Runs the estimate.
     *
     * @param out      the table and plot (stdout)
     * @param progress the progress bar and notes (stderr), or null for none
     */
    public static PriorEstimator.Estimate run(Options options, PrintStream out, PrintStream progress)
            throws IOException {
        if (options.kind() == PriorKind.SLEB) {
            return runSleb(options, out, progress);
        }
        try (FrozenModel model = FrozenModel.open(options.model())) {
            int layers = model.spec().blockCount();
            dev.buddy.router.Budget.requireRoutableDepth(layers);
            int[] tokens = CalibrationTokens.load(options.calibration(), model.tokenizer(), options.tokens());
            int window = Math.min(options.window(), model.spec().contextLength());
            TrainingData windows = windows(tokens, window, options.calibration().getFileName().toString());
            String calibration = String.format(Locale.ROOT, "%s, first %d tokens in %d windows of %d",
                    options.calibration().getFileName(), tokens.length, windows.size(), window);
            if (progress != null) {
                progress.printf(Locale.ROOT, "prior: %s on %s (%d blocks), %s%n", options.kind().fileName(),
                        options.model().getFileName(), layers, calibration);
            }
            long passes = PriorEstimator.passes(options.kind(), windows.size(), layers);
            PriorEstimator.Estimate estimate;
            try (ProgressBar bar = progress == null ? null : new ProgressBar(options.kind().fileName() + " prior",
                    passes, progress, System::nanoTime)) {
                ProgressListener listener = bar == null ? ProgressListener.NONE : bar;
                estimate = PriorEstimator.estimate(model, windows, options.kind(), options.threads(), listener);
            }
            printTable(estimate, options, tokens.length, out);
            if (options.output() != null) {
                PriorFile.write(estimate, model.baseInfo(), calibration, options.output());
                out.println("wrote " + options.output() + " (prior file and prior-only static plan); use it with"
                        + " train-router --prior " + options.output() + " or eval --router " + options.output());
            }
            return estimate;
        }
    }

    /**
     * The SLEB-order prior: SLEB's removal order (searched here on the calibration windows, or read from a SLEB plan
     * made on them), the never-removed blocks ordered by their ΔPPL on the same windows ({@link SlebPrior}).
     * Perplexities come from the inference engine ({@link CalibrationRunner}), exactly as {@code buddy prune}
     * measures them, so a search here and {@code prune --method sleb} with the same text, tokens and window agree.
     */
    private static PriorEstimator.Estimate runSleb(Options options, PrintStream out, PrintStream progress)
            throws IOException {
        try (Model model = Model.load(options.model())) {
            int layers = model.spec().blockCount();
            dev.buddy.router.Budget.requireRoutableDepth(layers);
            int middle = layers - 2;
            BaseModelInfo base = BaseModelInfo.of(model.spec(), model.gguf());
            int[] tokens = CalibrationTokens.load(options.calibration(), model.tokenizer(), options.tokens());
            int[] order = null;
            String source;
            if (options.slebPlan() != null) {
                Router router = RouterFile.load(options.slebPlan(), base);
                if (!(router instanceof StaticPlan plan)
                        || !BaselineMethod.SLEB.fileMethod().equals(plan.provenance().method())) {
                    throw new RouterFormatException(options.slebPlan() + " is not a SLEB plan (method "
                            + router.provenance().method() + "); write one with buddy prune --method sleb");
                }
                order = SlebPrior.removalOrder(plan);
                source = "removal order from " + options.slebPlan().getFileName();
            } else {
                source = "SLEB search";
            }
            int maxDrop = order != null ? order.length
                    : options.slebMaxDrop() == 0 ? middle - 1 : options.slebMaxDrop();
            if (maxDrop > middle - 1) {
                throw new InvalidTrainingOptionException("SLEB can remove 1.." + (middle - 1) + " blocks of this "
                        + layers + "-block model, asked for " + maxDrop);
            }
            try (CalibrationRunner runner = new CalibrationRunner(model, tokens, options.window(), options.threads())) {
                int window = Math.min(options.window(), Math.min(tokens.length, model.spec().contextLength()));
                int windows = (tokens.length + window - 1) / window;
                String calibration = String.format(Locale.ROOT, "%s, first %d tokens in %d windows of %d; %s",
                        options.calibration().getFileName(), tokens.length, windows, window, source);
                if (progress != null) {
                    progress.printf(Locale.ROOT, "prior: sleb on %s (%d blocks), %s%n",
                            options.model().getFileName(), layers, calibration);
                }
                // The search (unless reused), then the full model and each never-removed block alone for ΔPPL.
                long passes = (order == null ? StaticBaselines.passes(BaselineMethod.SLEB, layers, maxDrop) : 0)
                        + 1 + (middle - maxDrop);
                double[] delta = new double[middle];
                try (ProgressBar bar = progress == null ? null
                        : new ProgressBar("sleb prior", passes, progress, System::nanoTime)) {
                    ProgressListener listener = bar == null ? ProgressListener.NONE : bar;
                    if (order == null) {
                        order = new StaticBaselines(runner, (done, total) -> listener.advance(1)).sleb(maxDrop)
                                .removalOrder();
                    }
                    boolean[] removed = new boolean[layers];
                    double full = runner.perplexity(removed);
                    listener.advance(1);
                    for (int b : order) {
                        removed[b] = true;
                    }
                    for (int b = 1; b <= middle; b++) {
                        if (!removed[b]) {
                            boolean[] alone = new boolean[layers];
                            alone[b] = true;
                            delta[b - 1] = Math.max(0.0, runner.perplexity(alone) - full);
                            listener.advance(1);
                        }
                    }
                }
                double[] raw = SlebPrior.indicator(middle, order, delta);
                PriorEstimator.Estimate estimate = new PriorEstimator.Estimate(PriorKind.SLEB, raw,
                        SlebPrior.prior(raw), runner.predictedTokens(), windows);
                printTable(estimate, options, tokens.length, out);
                StringBuilder removals = new StringBuilder();
                for (int b : order) {
                    removals.append(removals.isEmpty() ? "" : " ").append(b);
                }
                out.println("SLEB removal order (first removed first): " + removals);
                if (options.output() != null) {
                    PriorFile.write(estimate, base, calibration, options.output());
                    out.println("wrote " + options.output() + " (prior file and prior-only static plan); use it with"
                            + " train-router --prior " + options.output() + " --init prior to start at SLEB's plan");
                }
                return estimate;
            }
        }
    }

    /**
     * {@code buddy prior --from FILE --removal-order LIST}: the prior in {@code from} (a prior file or any BUDDY router
     * of {@code model}) re-ranked by {@link PriorReorder}, written as a prior file of the base's kind. No calibration
     * pass runs; the model is opened for its fingerprint only.
     *
     * @return the re-ranked estimate (raw = place in the new order, 0 = least important)
     */
    public static PriorEstimator.Estimate reorder(Path model, Path from, int[] removalOrder, Path output,
                                                  PrintStream out) throws IOException {
        try (Model base = Model.load(model)) {
            BaseModelInfo info = BaseModelInfo.of(base.spec(), base.gguf());
            dev.buddy.router.Budget.requireRoutableDepth(info.layerCount());
            Prior prior = PriorFile.read(from, info);
            PriorKind kind;
            try {
                kind = PriorKind.fromName(prior.kind());
            } catch (IllegalArgumentException e) {
                throw new RouterFormatException(from + " routes without a prior (prior_kind " + prior.kind()
                        + "), so there is nothing to re-rank; give a file from buddy prior or train-router --prior");
            }
            double[] raw = PriorReorder.indicator(prior, removalOrder);
            PriorEstimator.Estimate estimate = new PriorEstimator.Estimate(kind, raw,
                    PriorReorder.prior(prior, removalOrder), 0, 0);
            StringBuilder listed = new StringBuilder();
            for (int b : removalOrder) {
                listed.append(listed.isEmpty() ? "" : ",").append(b);
            }
            String source = from.getFileName() + " re-ranked with removal order " + listed;
            out.printf(Locale.ROOT, "%s prior of %s: %s (raw = place in the order, 0 = removed first)%n",
                    kind.fileName(), model.getFileName(), source);
            printRows(estimate, out);
            if (output != null) {
                PriorFile.write(estimate, info, source, output);
                out.println("wrote " + output + " (prior file and prior-only static plan); use it with"
                        + " train-router --prior " + output + " --init prior to start at its plan");
            }
            return estimate;
        }
    }

    /** The tokens as independent windows of {@code window} (the tail too, if it has a token to predict). */
    static TrainingData windows(int[] tokens, int window, String name) {
        List<TrainingExample> list = new ArrayList<>();
        for (int start = 0; start + 1 < tokens.length; start += window) {
            int end = Math.min(tokens.length, start + window);
            list.add(new TrainingExample(Arrays.copyOfRange(tokens, start, end), 1, name + " window " + list.size()));
        }
        return new TrainingData() {
            @Override
            public int size() {
                return list.size();
            }

            @Override
            public TrainingExample example(int index) {
                return list.get(index);
            }

            @Override
            public String describe() {
                return name + " (" + tokens.length + " tokens, " + list.size() + " windows)";
            }
        };
    }

    private static void printTable(PriorEstimator.Estimate estimate, Options options, int tokens, PrintStream out) {
        out.printf(Locale.ROOT, "%s prior of %s on %s (%d windows, %,d scored tokens of %,d)%n",
                options.kind().fileName(), options.model().getFileName(), options.calibration().getFileName(),
                estimate.sequences(), estimate.tokens(), tokens);
        printRows(estimate, out);
    }

    private static void printRows(PriorEstimator.Estimate estimate, PrintStream out) {
        float[] normalised = estimate.prior().values();
        double[] raw = estimate.raw();
        int[] rank = new int[raw.length];
        int[] ranking = estimate.ranking();
        for (int i = 0; i < ranking.length; i++) {
            rank[ranking[i] - 1] = i + 1;
        }
        out.println("block  rank  raw            normalised  " + plotHeader(normalised));
        for (int j = 0; j < normalised.length; j++) {
            out.printf(Locale.ROOT, "%5d  %4d  %-13.6g  %+10.4f  %s%n", j + 1, rank[j], raw[j], normalised[j],
                    bar(normalised, j));
        }
        StringBuilder order = new StringBuilder();
        for (int b : ranking) {
            order.append(order.isEmpty() ? "" : " ").append(b);
        }
        out.println("ranking (most important first): " + order);
    }

    private static String plotHeader(float[] values) {
        return "|" + " ".repeat(Math.max(0, PLOT_WIDTH - 1)) + "| p̃ from min to max";
    }

    /** A bar proportional to p̃_j − min p̃, so the least important block has the shortest bar. */
    static String bar(float[] values, int j) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        int length = max > min ? Math.round((values[j] - min) / (max - min) * (PLOT_WIDTH - 1)) + 1 : PLOT_WIDTH;
        return "#".repeat(length);
    }
}
