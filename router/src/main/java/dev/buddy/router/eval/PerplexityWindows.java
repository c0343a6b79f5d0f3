package dev.buddy.router.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Hugging Face's sliding-window perplexity recipe ("Perplexity of fixed-length models"), with exact token accounting:
 * window {@code j} covers tokens {@code [j·stride, min(j·stride + window, N))} and scores only the tokens the previous
 * window did not reach, so every token but the first (which nothing predicts) is scored exactly once, and every
 * window after the first conditions its scored tokens on at least {@code window − stride} earlier tokens.
 */
public final class PerplexityWindows {
    private PerplexityWindows() {}

    /**
     * @param tokenCount N, the length of the token stream (≥ 2)
     * @param window     tokens per window (≥ 2)
     * @param stride     the step between window starts, in [1, window − 1], so that each later window has context
     */
    public static List<PerplexityWindow> plan(int tokenCount, int window, int stride) {
        if (window < 2) {
            throw new InvalidEvalOptionException("perplexity window must be at least 2 tokens, got " + window);
        }
        if (stride < 1 || stride >= window) {
            throw new InvalidEvalOptionException("perplexity stride must be in 1.." + (window - 1) + " for a window of "
                    + window + ", got " + stride);
        }
        if (tokenCount < 2) {
            throw new InvalidEvalOptionException("perplexity needs at least 2 tokens, the text has " + tokenCount);
        }
        List<PerplexityWindow> windows = new ArrayList<>();
        int previousEnd = 0;
        for (long begin = 0; begin < tokenCount; begin += stride) {
            int end = (int) Math.min(begin + window, tokenCount);
            // Token 0 has no prediction; later windows start scoring where the previous one stopped.
            int scoreFrom = Math.max(previousEnd, 1);
            windows.add(new PerplexityWindow((int) begin, scoreFrom, end));
            previousEnd = end;
            if (end == tokenCount) {
                break;
            }
        }
        return windows;
    }

    /** The default window: the evaluation context, at most 512 tokens. */
    public static int defaultWindow(int contextLength) {
        return Math.min(contextLength, 512);
    }

    /** The default stride: half a window. */
    public static int defaultStride(int window) {
        return Math.max(1, window / 2);
    }
}
