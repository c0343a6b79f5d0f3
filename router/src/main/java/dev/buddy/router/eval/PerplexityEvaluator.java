package dev.buddy.router.eval;

import java.util.Arrays;
import java.util.List;

/** Sliding-window perplexity ({@link PerplexityWindows}) over a token stream, scored by a {@link LogLikelihoodScorer}. */
public final class PerplexityEvaluator {
    private PerplexityEvaluator() {}

    /**
     * The corpus as one token stream: each document encoded on its own, preceded by BOS when {@code addBos}, cut
     * after {@code limitTokens} tokens. Documents past the limit are not encoded at all.
     */
    public static int[] tokenStream(List<String> documents, TextEncoder encoder, boolean addBos, int limitTokens) {
        if (limitTokens < 2) {
            throw new InvalidEvalOptionException("perplexity token limit must be at least 2, got " + limitTokens);
        }
        if (addBos && encoder.bosToken() < 0) {
            throw new InvalidEvalOptionException("BOS was asked for but the vocabulary has no BOS token");
        }
        int[] stream = new int[Math.min(limitTokens, 1 << 16)];
        int size = 0;
        for (String doc : documents) {
            if (size >= limitTokens) {
                break;
            }
            int[] tokens = encoder.encode(doc);
            int needed = Math.min(limitTokens, size + tokens.length + (addBos ? 1 : 0));
            if (needed > stream.length) {
                stream = Arrays.copyOf(stream, (int) Math.min(limitTokens, Math.max(needed, 2L * stream.length)));
            }
            if (addBos && size < limitTokens) {
                stream[size++] = encoder.bosToken();
            }
            int take = Math.min(tokens.length, limitTokens - size);
            System.arraycopy(tokens, 0, stream, size, take);
            size += take;
        }
        return Arrays.copyOf(stream, size);
    }

    /**
     * Scores every token of {@code stream} but the first, window by window; progress is told in scored tokens.
     *
     * @throws InvalidEvalOptionException if a window does not fit the scorer's model
     */
    public static PerplexityResult evaluate(PerplexityCorpus corpus, int[] stream, LogLikelihoodScorer scorer,
            int window, int stride, ProgressListener progress) {
        return evaluate(corpus, stream, List.of(scorer), window, stride, progress);
    }

    /**
     * As {@link #evaluate(PerplexityCorpus, int[], LogLikelihoodScorer, int, int, ProgressListener)}, several windows
     * at once (each window is its own sequence), one per scorer; the windows' log-likelihoods are summed in window
     * order, so the result is the one a single scorer gives.
     */
    public static PerplexityResult evaluate(PerplexityCorpus corpus, int[] stream,
            List<LogLikelihoodScorer> scorers, int window, int stride, ProgressListener progress) {
        List<PerplexityWindow> windows = PerplexityWindows.plan(stream.length, window, stride);
        double[] windowLogLikelihoods = new double[windows.size()];
        ProgressListener shared = IndexedWork.shared(progress);
        IndexedWork.run(windows.size(), scorers.size(), (worker, i) -> {
            PerplexityWindow w = windows.get(i);
            int[] context = Arrays.copyOfRange(stream, w.begin(), w.scoreFrom());
            int[] target = Arrays.copyOfRange(stream, w.scoreFrom(), w.end());
            windowLogLikelihoods[i] = scorers.get(worker).scoreTokens(context, target, null);
            shared.advance(target.length);
        });
        double logLikelihood = 0;
        long scored = 0;
        for (int i = 0; i < windows.size(); i++) {
            logLikelihood += windowLogLikelihoods[i];
            scored += windows.get(i).end() - windows.get(i).scoreFrom();
        }
        return new PerplexityResult(corpus, window, stride, scored, -logLikelihood);
    }
}
