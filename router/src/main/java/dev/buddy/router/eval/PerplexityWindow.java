package dev.buddy.router.eval;

/**
 * One forward window of a sliding-window perplexity run over a token stream: the model runs on tokens
 * {@code [begin, end−1]} from position 0, and tokens {@code [scoreFrom, end)} are scored, each predicted from
 * everything before it in the window. Tokens {@code [begin, scoreFrom)} are context only.
 */
public record PerplexityWindow(int begin, int scoreFrom, int end) {
    public PerplexityWindow {
        if (begin < 0 || scoreFrom <= begin || end <= scoreFrom) {
            throw new IllegalArgumentException("bad window: begin " + begin + ", scoreFrom " + scoreFrom + ", end "
                    + end);
        }
    }

    public int contextTokens() {
        return scoreFrom - begin;
    }

    public int scoredTokens() {
        return end - scoreFrom;
    }

    /** Positions the model runs: all window tokens but the last, which is only ever a target. */
    public int positionsUsed() {
        return end - begin - 1;
    }
}
