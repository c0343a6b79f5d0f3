package dev.buddy.router.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import dev.buddy.router.baseline.CalibrationTokens;
import dev.buddy.router.eval.ProgressBar;
import dev.buddy.router.eval.ProgressListener;

/**
 * {@code buddy prior}: estimates a per-block importance indicator (taylor, dppl or cosine) on the first N tokens of a
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
                          Path output) {
        public Options {
            if (tokens < CalibrationTokens.MIN_TOKENS || window < 2 || threads < 1) {
                throw new InvalidTrainingOptionException("calibration tokens and window must be at least 2 and"
                        + " threads at least 1; got " + tokens + " tokens, window " + window + ", " + threads
                        + " threads");
            }
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
