package dev.buddy.engine.model;

import dev.buddy.engine.kv.KvCache;

/**
 * The token rows one block runs on: their residual rows {@code [row][dim]}, RoPE angles {@code [row][ropeDims/2]},
 * positions, and for each row the KV cache of its sequence and the summation order of its attention. A whole forward
 * call is one instance over the state's own buffers; a per-token plan gathers the rows that selected a block into a
 * second, compact instance, runs the block on it and scatters the residual back. The rows of one call may belong to
 * several sequences ({@link SequenceBatch}): each row reads and writes its own sequence's cache.
 */
final class TokenRows {
    final float[] x;
    final float[] cos;
    final float[] sin;
    final int[] positions;
    final KvCache[] caches;
    /** True: the row's attention sums in llama.cpp's batch order (tinyBLAS); false: in its one-token order. */
    final boolean[] batchOrder;
    int count;

    TokenRows(float[] x, float[] cos, float[] sin, int[] positions) {
        this.x = x;
        this.cos = cos;
        this.sin = sin;
        this.positions = positions;
        this.caches = new KvCache[positions.length];
        this.batchOrder = new boolean[positions.length];
    }

    /** Copies row {@code from} of {@code source} into this set's row {@code to}. */
    void copyRow(TokenRows source, int from, int to, int dim, int pairs) {
        System.arraycopy(source.x, from * dim, x, to * dim, dim);
        System.arraycopy(source.cos, from * pairs, cos, to * pairs, pairs);
        System.arraycopy(source.sin, from * pairs, sin, to * pairs, pairs);
        positions[to] = source.positions[from];
        caches[to] = source.caches[from];
        batchOrder[to] = source.batchOrder[from];
    }
}
