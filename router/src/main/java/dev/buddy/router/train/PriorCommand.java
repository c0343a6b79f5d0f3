package dev.buddy.router.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

import dev.buddy.router.BaseModelInfo;
import dev.buddy.router.Provenance;
import dev.buddy.router.RouterFile;
import dev.buddy.router.StaticPlan;

/**
 * {@code buddy prior}: estimates a per-block importance indicator (taylor, dppl or cosine) on calibration text,
 * prints the raw and normalised values per middle block, and optionally writes the ranking as a static router file
 * (method {@code prior}): running the k most important middle blocks for budget k is the prior-only baseline.
 */
public final class PriorCommand {
    /** Method name of the static plans this command writes. */
    public static final String METHOD = "prior";

    /**
     * @param model     base model GGUF
     * @param text      calibration data (plain text such as WikiText-2, or any training data format)
     * @param kind      the indicator
     * @param sequences how many sequences of the file to use
     * @param maxTokens longest sequence
     * @param threads   kernel threads
     * @param output    static router file to write, or null
     */
    public record Options(Path model, Path text, PriorKind kind, int sequences, int maxTokens, int threads,
                          Path output) {
        /** Taylor on 64 sequences of at most 512 tokens, no output file. */
        public static Options defaults(Path model, Path text) {
            return new Options(model, text, PriorKind.TAYLOR, 64, 512, Runtime.getRuntime().availableProcessors(),
                    null);
        }
    }

    private PriorCommand() {}

    public static PriorEstimator.Estimate run(Options options, PrintStream out) throws IOException {
        try (FrozenModel model = FrozenModel.open(options.model())) {
            TrainingData all = TrainingData.open(options.text(), model.tokenizer(), options.maxTokens());
            TrainingData calibration = all.slice(0, Math.min(all.size(), Math.max(1, options.sequences())));
            PriorEstimator.Estimate estimate = PriorEstimator.estimate(model, calibration, options.kind(),
                    options.threads());
            out.printf(Locale.ROOT, "%s prior of %s on %s (%d sequences, %,d tokens)%n", options.kind().fileName(),
                    options.model().getFileName(), calibration.describe(), estimate.sequences(), estimate.tokens());
            out.println("block  raw            normalised");
            float[] normalised = estimate.prior().values();
            for (int j = 0; j < normalised.length; j++) {
                out.printf(Locale.ROOT, "%5d  %-13.6g  %+.4f%n", j + 1, estimate.raw()[j], normalised[j]);
            }
            if (options.output() != null) {
                BaseModelInfo base = model.baseInfo();
                StaticPlan plan = new StaticPlan(options.kind().fileName() + " prior of "
                        + options.model().getFileName(), base.layerCount(), estimate.ranking(), Map.of(),
                        new Provenance(base.fingerprint(), base.architecture(), true, new float[0], METHOD,
                                options.kind().fileName()));
                RouterFile.write(plan, options.output());
                out.println("wrote static plan " + options.output());
            }
            return estimate;
        }
    }
}
