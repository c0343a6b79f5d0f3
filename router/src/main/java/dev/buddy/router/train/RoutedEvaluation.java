package dev.buddy.router.train;

import java.util.Locale;

import dev.buddy.engine.tensor.Parallel;
import dev.buddy.router.Budget;
import dev.buddy.router.lora.LoraAdapters;

/**
 * Teacher-forced perplexity of a frozen model under a routing and budget, on the scored tokens of a data set: each
 * sequence is routed once from its layer-0 features (as a prefill is) and the skipped blocks pass their input
 * through. This is the measure training optimises, so it is the fair way to compare routers trained here.
 */
public final class RoutedEvaluation {

    /**
     * @param nll         Σ −log p over scored tokens
     * @param tokens      scored tokens
     * @param blockRuns   per block, in how many sequences it ran
     * @param sequences   sequences evaluated
     */
    public record Result(double nll, long tokens, long[] blockRuns, int sequences) {
        public double meanNll() {
            return nll / tokens;
        }

        public double perplexity() {
            return Math.exp(meanNll());
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "ppl %.4f (mean NLL %.5f over %d tokens, %d sequences)", perplexity(),
                    meanNll(), tokens, sequences);
        }
    }

    private RoutedEvaluation() {}

    /** Evaluates {@code data} with {@code threads} kernel threads. */
    public static Result evaluate(FrozenModel model, TrainingData data, SequenceRouting routing, Budget budget,
                                  int threads) {
        try (Parallel pool = new Parallel(threads)) {
            return evaluate(model, data, routing, budget, pool);
        }
    }

    static Result evaluate(FrozenModel model, TrainingData data, SequenceRouting routing, Budget budget,
                           Parallel pool) {
        return evaluate(model, data, routing, budget, pool, null);
    }

    /** As above, with LoRA adapters ({@code adapters}, or null for none) applied to the projections. */
    static Result evaluate(FrozenModel model, TrainingData data, SequenceRouting routing, Budget budget,
                           Parallel pool, LoraAdapters adapters) {
        int layers = model.spec().blockCount();
        int k = budget.middleBlocks(layers);
        int capacity = 1;
        for (int i = 0; i < data.size(); i++) {
            capacity = Math.max(capacity, data.example(i).length());
        }
        ModelPass pass = new ModelPass(model, capacity, pool);
        if (adapters != null) {
            // Forward only: the gradient buffer the training blocks need is never written here.
            pass.attachAdapters(adapters, new double[adapters.params().length]);
        }
        int kvDim = model.spec().kvDim();
        float[] features = new float[capacity * kvDim];
        int[] targets = new int[capacity];
        float[] gates = new float[layers];
        long[] runs = new long[layers];
        boolean[] fixed = routing.fixedMask(layers);
        double nll = 0;
        long tokens = 0;
        int sequences = 0;
        for (int i = 0; i < data.size(); i++) {
            TrainingExample e = data.example(i);
            if (e.targetCount() == 0) {
                continue;
            }
            int n = e.length();
            pass.embed(e.tokens(), n);
            pass.beginForward(n);
            boolean[] mask;
            if (fixed != null) {
                mask = fixed;
            } else {
                pass.layer0Features(routing.featureSource(), n, features);
                mask = routing.mask(features, n, kvDim, k);
            }
            for (int l = 0; l < layers; l++) {
                gates[l] = mask[l] ? 1f : 0f;
                runs[l] += mask[l] ? 1 : 0;
            }
            pass.finishForward(gates, false);
            e.targets(targets);
            nll += pass.headLoss(targets, 1f, false);
            tokens += e.targetCount();
            sequences++;
        }
        if (tokens == 0) {
            throw new TrainingDataException(data.describe() + " has no scored tokens to evaluate");
        }
        return new Result(nll, tokens, runs, sequences);
    }
}
