package dev.buddy.engine.model;

/**
 * Sees the residual stream between blocks, for offline analyses that need hidden states (e.g. ShortGPT's block
 * influence, or the log-likelihood of every position of a calibration window). Called on the inference thread; it
 * must not modify {@code x}. A state without an observer pays one null check per block.
 */
@FunctionalInterface
public interface ResidualObserver {
    /**
     * @param boundary   0..L−1: the residual entering that block; L: the residual leaving the last block, before the
     *                   output norm
     * @param x          rows {@code [token][dim]} of the tokens in this forward call (a chunk of it)
     * @param startPosition position of the first row
     * @param tokenCount number of rows
     * @param dim        embedding length
     */
    void observe(int boundary, float[] x, int startPosition, int tokenCount, int dim);
}
