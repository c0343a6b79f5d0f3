package dev.buddy.engine.model;

/**
 * The token rows one block runs on: their residual rows {@code [row][dim]}, RoPE angles {@code [row][ropeDims/2]}
 * and positions. A whole forward call is one instance over the state's own buffers; a per-token plan gathers the rows
 * that selected a block into a second, compact instance, runs the block on it and scatters the residual back.
 */
final class TokenRows {
    final float[] x;
    final float[] cos;
    final float[] sin;
    final int[] positions;
    int count;

    TokenRows(float[] x, float[] cos, float[] sin, int[] positions) {
        this.x = x;
        this.cos = cos;
        this.sin = sin;
        this.positions = positions;
    }

    /** Copies row {@code from} of {@code source} into this set's row {@code to}. */
    void copyRow(TokenRows source, int from, int to, int dim, int pairs) {
        System.arraycopy(source.x, from * dim, x, to * dim, dim);
        System.arraycopy(source.cos, from * pairs, cos, to * pairs, pairs);
        System.arraycopy(source.sin, from * pairs, sin, to * pairs, pairs);
        positions[to] = source.positions[from];
    }
}
