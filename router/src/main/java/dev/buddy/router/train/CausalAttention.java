package dev.buddy.router.train;

import java.util.Arrays;

import dev.buddy.engine.tensor.Parallel;

/**
 * Causal softmax attention with grouped KV heads over one sequence, keeping the attention probabilities for the
 * backward pass. Rows are positions; query head h reads KV head {@code h / (heads / kvHeads)}.
 *
 * <p>Forward: {@code P[h][t][s] = softmax_s≤t(scale·q_t·k_s)}, {@code o_t = Σ_s P[t][s]·v_s}. Backward, for
 * {@code dP[t][s] = dO_t·v_s} and {@code dS = P ⊙ (dP − Σ_s P·dP)}: {@code dq_t = scale·Σ_s dS[t][s]·k_s},
 * {@code dk_s += scale·Σ_t dS[t][s]·q_t}, {@code dv_s += Σ_t P[t][s]·dO_t}.
 *
 * <p>K and V are first transposed per KV head to {@code [dim][position]}, so every inner loop runs over positions
 * (length up to n, which vectorises) instead of over a head's few dimensions. The backward pass is split by KV head,
 * so each thread owns its KV rows and no accumulation races with another.
 */
final class CausalAttention {
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int capacity;
    private final float scale;
    private final float[] keysT;
    private final float[] valuesT;
    private final float[] dKeysT;
    private final float[] dValuesT;
    private final float[] rowScratch;

    CausalAttention(int heads, int kvHeads, int headDim, int capacity) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = capacity;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        int transposed = kvHeads * headDim * capacity;
        this.keysT = new float[transposed];
        this.valuesT = new float[transposed];
        this.dKeysT = new float[transposed];
        this.dValuesT = new float[transposed];
        this.rowScratch = new float[heads * capacity];
    }

    /** Floats the probability buffer needs: one {@code capacity × capacity} matrix per query head. */
    int probabilitySize() {
        return heads * capacity * capacity;
    }

    /** Offset of KV head {@code kvh}, dimension d, in the transposed buffers. */
    private int transposedRow(int kvh, int d) {
        return (kvh * headDim + d) * capacity;
    }

    private void transpose(float[] rows, int n, float[] dst, int kvh) {
        int kvWidth = kvHeads * headDim;
        for (int s = 0; s < n; s++) {
            int src = s * kvWidth + kvh * headDim;
            for (int d = 0; d < headDim; d++) {
                dst[transposedRow(kvh, d) + s] = rows[src + d];
            }
        }
    }

    /**
     * @param q     {@code n × heads·headDim}
     * @param k     {@code n × kvHeads·headDim}
     * @param v     {@code n × kvHeads·headDim}
     * @param probs receives P, indexed {@code [h][t][s]} with row stride {@code capacity}
     * @param out   receives {@code n × heads·headDim}
     */
    void forward(float[] q, float[] k, float[] v, int n, float[] probs, float[] out, Parallel pool) {
        int qWidth = heads * headDim;
        int group = heads / kvHeads;
        pool.forRange(kvHeads, (from, to) -> {
            for (int kvh = from; kvh < to; kvh++) {
                transpose(k, n, keysT, kvh);
                transpose(v, n, valuesT, kvh);
            }
        });
        pool.forRange(heads, (from, to) -> {
            for (int h = from; h < to; h++) {
                int kvh = h / group;
                for (int t = 0; t < n; t++) {
                    int p = (h * capacity + t) * capacity;
                    int qo = t * qWidth + h * headDim;
                    int count = t + 1;
                    Arrays.fill(probs, p, p + count, 0f);
                    for (int d = 0; d < headDim; d++) {
                        Vec.axpy(q[qo + d] * scale, keysT, transposedRow(kvh, d), probs, p, count);
                    }
                    float max = Vec.max(probs, p, count);
                    double sum = Vec.expShifted(probs, p, count, max);
                    Vec.scale(probs, p, count, (float) (1.0 / sum));
                    for (int d = 0; d < headDim; d++) {
                        out[qo + d] = Vec.dot(probs, p, valuesT, transposedRow(kvh, d), count);
                    }
                }
            }
        });
    }

    /** Writes the gradients of q, k and v (all three overwritten) for output gradient {@code dOut}. */
    void backward(float[] dOut, float[] q, float[] k, float[] v, float[] probs, int n, float[] dq, float[] dk,
                  float[] dv, Parallel pool) {
        int qWidth = heads * headDim;
        int kvWidth = kvHeads * headDim;
        int group = heads / kvHeads;
        pool.forRange(kvHeads, (from, to) -> {
            for (int kvh = from; kvh < to; kvh++) {
                // The forward pass's transposes may belong to another block by now: redo them.
                transpose(k, n, keysT, kvh);
                transpose(v, n, valuesT, kvh);
                for (int d = 0; d < headDim; d++) {
                    Arrays.fill(dKeysT, transposedRow(kvh, d), transposedRow(kvh, d) + n, 0f);
                    Arrays.fill(dValuesT, transposedRow(kvh, d), transposedRow(kvh, d) + n, 0f);
                }
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    int dp = h * capacity;
                    for (int t = 0; t < n; t++) {
                        int p = (h * capacity + t) * capacity;
                        int qo = t * qWidth + h * headDim;
                        int count = t + 1;
                        // dP[s] = dO_t · v_s, and dV^T[d][s] += dO_t[d] · P[s].
                        Arrays.fill(rowScratch, dp, dp + count, 0f);
                        for (int d = 0; d < headDim; d++) {
                            float g = dOut[qo + d];
                            Vec.axpy(g, valuesT, transposedRow(kvh, d), rowScratch, dp, count);
                            Vec.axpy(g, probs, p, dValuesT, transposedRow(kvh, d), count);
                        }
                        double weighted = 0;
                        for (int s = 0; s < count; s++) {
                            weighted += (double) probs[p + s] * rowScratch[dp + s];
                        }
                        float mean = (float) weighted;
                        // dS (scaled) overwrites dP.
                        for (int s = 0; s < count; s++) {
                            rowScratch[dp + s] = probs[p + s] * (rowScratch[dp + s] - mean) * scale;
                        }
                        for (int d = 0; d < headDim; d++) {
                            dq[qo + d] = Vec.dot(rowScratch, dp, keysT, transposedRow(kvh, d), count);
                            Vec.axpy(q[qo + d], rowScratch, dp, dKeysT, transposedRow(kvh, d), count);
                        }
                    }
                }
                for (int s = 0; s < n; s++) {
                    int row = s * kvWidth + kvh * headDim;
                    for (int d = 0; d < headDim; d++) {
                        dk[row + d] = dKeysT[transposedRow(kvh, d) + s];
                        dv[row + d] = dValuesT[transposedRow(kvh, d) + s];
                    }
                }
            }
        });
    }
}
