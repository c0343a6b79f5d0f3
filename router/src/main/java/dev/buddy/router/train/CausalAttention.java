package dev.buddy.router.train;

import java.util.Arrays;

import dev.buddy.engine.tensor.Parallel;

/**
 * Causal softmax attention with grouped KV heads over one sequence, keeping the attention probabilities for the
 * backward pass. Rows are positions; query head h reads KV head {@code h / (heads / kvHeads)}.
 *
 * <p>Forward: {@code P[h][t][s] = softmax_s≤t(scale·q_t·k_s)}, {@code o_t = Σ_s P[t][s]·v_s}. Backward, for
 * {@code dP[t][s] = dO_t·v_s} and {@code dS = P ⊙ (dP − Σ_s P·dP)}: {@code dq_t = scale·Σ_s dS[t][s]·k_s},
 * {@code dk_s += scale·Σ_t dS[t][s]·q_t}, {@code dv_s += Σ_t P[t][s]·dO_t}. The backward pass is split by KV head, so
 * each thread owns its KV rows and no accumulation races with another.
 */
final class CausalAttention {
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int capacity;
    private final float scale;

    CausalAttention(int heads, int kvHeads, int headDim, int capacity) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.capacity = capacity;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
    }

    /** Floats the probability buffer needs: one {@code capacity × capacity} matrix per query head. */
    int probabilitySize() {
        return heads * capacity * capacity;
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
        int kvWidth = kvHeads * headDim;
        int group = heads / kvHeads;
        pool.forRange(heads, (from, to) -> {
            for (int h = from; h < to; h++) {
                int kvOffset = (h / group) * headDim;
                for (int t = 0; t < n; t++) {
                    int p = (h * capacity + t) * capacity;
                    int qo = t * qWidth + h * headDim;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        float score = Vec.dot(q, qo, k, s * kvWidth + kvOffset, headDim) * scale;
                        probs[p + s] = score;
                        max = Math.max(max, score);
                    }
                    double sum = 0;
                    for (int s = 0; s <= t; s++) {
                        float e = (float) Math.exp(probs[p + s] - max);
                        probs[p + s] = e;
                        sum += e;
                    }
                    float inv = (float) (1.0 / sum);
                    Arrays.fill(out, qo, qo + headDim, 0f);
                    for (int s = 0; s <= t; s++) {
                        float weight = probs[p + s] * inv;
                        probs[p + s] = weight;
                        Vec.axpy(weight, v, s * kvWidth + kvOffset, out, qo, headDim);
                    }
                }
            }
        });
    }

    /**
     * Accumulates the gradients of q, k and v. {@code dq} is overwritten; {@code dk} and {@code dv} are overwritten
     * too (each KV head's rows are owned by one task, which clears them first).
     *
     * @param scratch at least {@code kvHeads × capacity} floats for the per-row dP
     */
    void backward(float[] dOut, float[] q, float[] k, float[] v, float[] probs, int n, float[] dq, float[] dk,
                  float[] dv, float[] scratch, Parallel pool) {
        int qWidth = heads * headDim;
        int kvWidth = kvHeads * headDim;
        int group = heads / kvHeads;
        pool.forRange(kvHeads, (from, to) -> {
            for (int kvh = from; kvh < to; kvh++) {
                int kvOffset = kvh * headDim;
                int dpOffset = kvh * capacity;
                for (int s = 0; s < n; s++) {
                    Arrays.fill(dk, s * kvWidth + kvOffset, s * kvWidth + kvOffset + headDim, 0f);
                    Arrays.fill(dv, s * kvWidth + kvOffset, s * kvWidth + kvOffset + headDim, 0f);
                }
                for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                    for (int t = 0; t < n; t++) {
                        int p = (h * capacity + t) * capacity;
                        int qo = t * qWidth + h * headDim;
                        double weighted = 0;
                        for (int s = 0; s <= t; s++) {
                            float dp = Vec.dot(dOut, qo, v, s * kvWidth + kvOffset, headDim);
                            scratch[dpOffset + s] = dp;
                            weighted += (double) probs[p + s] * dp;
                        }
                        float mean = (float) weighted;
                        Arrays.fill(dq, qo, qo + headDim, 0f);
                        for (int s = 0; s <= t; s++) {
                            float prob = probs[p + s];
                            float dScore = prob * (scratch[dpOffset + s] - mean) * scale;
                            int kvRow = s * kvWidth + kvOffset;
                            Vec.axpy(dScore, k, kvRow, dq, qo, headDim);
                            Vec.axpy(dScore, q, qo, dk, kvRow, headDim);
                            Vec.axpy(prob, dOut, qo, dv, kvRow, headDim);
                        }
                    }
                }
            }
        });
    }
}
