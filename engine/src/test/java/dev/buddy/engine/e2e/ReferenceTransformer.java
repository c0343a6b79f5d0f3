package dev.buddy.engine.e2e;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Optional;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TensorInfo;
import dev.buddy.gguf.codec.BlockCodecs;

/**
 * A deliberately naive transformer in double precision, written from the model definitions (Llama, Qwen2, Qwen3 as
 * in Hugging Face transformers) and sharing no code with Buddy's engine: weights are dequantised with the reference
 * codecs, every angle comes straight from its formula, attention is a plain causal softmax. It is the reference
 * where llama.cpp cannot be one (the bundled llama.cpp build predates qwen3) and a second opinion elsewhere.
 *
 * <p>One thing is borrowed from llama.cpp on purpose: before a product with a quantised or 16-bit weight matrix, the
 * input vector is rounded to the format ggml pairs with that weight type (Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for
 * Q4_1/Q5_1, Q8_K for the K-quants, F16, BF16), using the reference codecs. That rounding is part of what a GGUF
 * model computes in llama.cpp; without it a quantised model's logits move by tenths and the comparison would test
 * the rounding, not the architecture. Sums are then taken in double.
 *
 * <p>Slow by design; meant for the small synthetic models.
 */
public final class ReferenceTransformer {
    private final String arch;
    private final int dim;
    private final int blocks;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int ffn;
    private final int vocab;
    private final int ropeDims;
    private final double ropeBase;
    private final double ropeScale;
    private final float[] ropeFactors;
    private final double eps;
    private final boolean neox;

    private final float[] embedding;
    private final Mat output;
    private final float[] outputNorm;
    private final Layer[] layers;

    /** Key and value caches: [layer][position][kvHeads * headDim]. */
    private final double[][][] keys;
    private final double[][][] values;
    private int length;

    /** A dequantised matrix and the format its input is rounded to first (null: none). */
    private record Mat(float[] w, GgmlType inputFormat) {}

    private record Layer(float[] attnNorm, Mat wq, Mat wk, Mat wv, Mat wo, float[] bq, float[] bk,
            float[] bv, float[] qNorm, float[] kNorm, float[] ffnNorm, Mat gate, Mat up, Mat down) {}

    public ReferenceTransformer(Path path, int maxPositions) throws IOException {
        try (GgufFile f = GgufFile.open(path)) {
            arch = f.getString("general.architecture");
            String p = arch + ".";
            dim = f.getInt(p + "embedding_length");
            blocks = f.getInt(p + "block_count");
            heads = f.getInt(p + "attention.head_count");
            kvHeads = f.getInt(p + "attention.head_count_kv", heads);
            headDim = f.getInt(p + "attention.key_length", dim / heads);
            ffn = f.getInt(p + "feed_forward_length");
            ropeDims = f.getInt(p + "rope.dimension_count", headDim);
            ropeBase = f.getFloat(p + "rope.freq_base", 10000f);
            float factor = f.getFloat(p + "rope.scaling.factor", 0f);
            ropeScale = factor == 0 ? 1 : 1.0 / factor;
            eps = f.getFloat(p + "attention.layer_norm_rms_epsilon");
            neox = !arch.equals("llama"); // Qwen rotates half-split pairs; GGUF llama files adjacent pairs
            ropeFactors = f.findTensor("rope_freqs.weight").map(t -> floats(f, t)).orElse(null);
            embedding = floats(f, f.tensor("token_embd.weight"));
            vocab = embedding.length / dim;
            output = mat(f, f.findTensor("output.weight").orElse(f.tensor("token_embd.weight")));
            outputNorm = floats(f, f.tensor("output_norm.weight"));
            layers = new Layer[blocks];
            for (int l = 0; l < blocks; l++) {
                String b = "blk." + l + ".";
                layers[l] = new Layer(floats(f, b + "attn_norm.weight"), mat(f, b + "attn_q.weight"),
                        mat(f, b + "attn_k.weight"), mat(f, b + "attn_v.weight"),
                        mat(f, b + "attn_output.weight"), optional(f, b + "attn_q.bias"),
                        optional(f, b + "attn_k.bias"), optional(f, b + "attn_v.bias"),
                        optional(f, b + "attn_q_norm.weight"), optional(f, b + "attn_k_norm.weight"),
                        floats(f, b + "ffn_norm.weight"), mat(f, b + "ffn_gate.weight"),
                        mat(f, b + "ffn_up.weight"), mat(f, b + "ffn_down.weight"));
            }
        }
        keys = new double[blocks][maxPositions][];
        values = new double[blocks][maxPositions][];
    }

    public int vocabularySize() {
        return vocab;
    }

    /** Forgets all positions. */
    public void reset() {
        length = 0;
    }

    /** Appends one token and returns the logits at its position. */
    public double[] next(int token) {
        int pos = length++;
        double[] x = new double[dim];
        for (int i = 0; i < dim; i++) {
            x[i] = embedding[token * dim + i];
        }
        for (int l = 0; l < blocks; l++) {
            Layer w = layers[l];
            double[] h = rmsNorm(x, w.attnNorm);
            double[] q = add(matvec(w.wq, h, heads * headDim), w.bq);
            double[] k = add(matvec(w.wk, h, kvHeads * headDim), w.bk);
            double[] v = add(matvec(w.wv, h, kvHeads * headDim), w.bv);
            for (int hh = 0; hh < heads; hh++) {
                if (w.qNorm != null) {
                    normHead(q, hh, w.qNorm);
                }
                rotate(q, hh * headDim, pos);
            }
            for (int hh = 0; hh < kvHeads; hh++) {
                if (w.kNorm != null) {
                    normHead(k, hh, w.kNorm);
                }
                rotate(k, hh * headDim, pos);
            }
            keys[l][pos] = k;
            values[l][pos] = v;
            double[] attention = new double[heads * headDim];
            int group = heads / kvHeads;
            for (int hh = 0; hh < heads; hh++) {
                int kvh = hh / group;
                double[] scores = new double[pos + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int p = 0; p <= pos; p++) {
                    double dot = 0;
                    for (int i = 0; i < headDim; i++) {
                        dot += q[hh * headDim + i] * keys[l][p][kvh * headDim + i];
                    }
                    scores[p] = dot / Math.sqrt(headDim);
                    max = Math.max(max, scores[p]);
                }
                double sum = 0;
                for (int p = 0; p <= pos; p++) {
                    scores[p] = Math.exp(scores[p] - max);
                    sum += scores[p];
                }
                for (int p = 0; p <= pos; p++) {
                    for (int i = 0; i < headDim; i++) {
                        attention[hh * headDim + i] += scores[p] / sum * values[l][p][kvh * headDim + i];
                    }
                }
            }
            double[] o = matvec(w.wo, attention, dim);
            for (int i = 0; i < dim; i++) {
                x[i] += o[i];
            }
            double[] hf = rmsNorm(x, w.ffnNorm);
            double[] g = matvec(w.gate, hf, ffn);
            double[] u = matvec(w.up, hf, ffn);
            for (int i = 0; i < ffn; i++) {
                g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
            }
            double[] d = matvec(w.down, g, dim);
            for (int i = 0; i < dim; i++) {
                x[i] += d[i];
            }
        }
        return matvec(output, rmsNorm(x, outputNorm), vocab);
    }

    private void rotate(double[] x, int offset, int pos) {
        int half = ropeDims / 2;
        for (int i = 0; i < half; i++) {
            double angle = pos * Math.pow(ropeBase, -2.0 * i / ropeDims) * ropeScale
                    / (ropeFactors == null ? 1 : ropeFactors[i]);
            int a = offset + (neox ? i : 2 * i);
            int b = offset + (neox ? i + half : 2 * i + 1);
            double x0 = x[a];
            double x1 = x[b];
            x[a] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
            x[b] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
        }
    }

    private void normHead(double[] x, int head, float[] weight) {
        double ss = 0;
        for (int i = 0; i < headDim; i++) {
            ss += x[head * headDim + i] * x[head * headDim + i];
        }
        double scale = 1 / Math.sqrt(ss / headDim + eps);
        for (int i = 0; i < headDim; i++) {
            x[head * headDim + i] *= scale * weight[i];
        }
    }

    private double[] rmsNorm(double[] x, float[] weight) {
        double ss = 0;
        for (double v : x) {
            ss += v * v;
        }
        double scale = 1 / Math.sqrt(ss / x.length + eps);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * scale * weight[i];
        }
        return out;
    }

    /**
     * out[r] = Σ_c w[r * cols + c] * x[c], with cols = x.length (GGUF row-major, ne0 = cols), after rounding x to
     * the matrix's input format.
     */
    private static double[] matvec(Mat m, double[] x, int rows) {
        float[] w = m.w();
        if (m.inputFormat() != null) {
            float[] xf = new float[x.length];
            for (int i = 0; i < xf.length; i++) {
                xf[i] = (float) x[i];
            }
            byte[] rounded = BlockCodecs.quantize(m.inputFormat(), xf);
            xf = BlockCodecs.dequantize(m.inputFormat(), MemorySegment.ofArray(rounded), xf.length);
            x = new double[xf.length];
            for (int i = 0; i < xf.length; i++) {
                x[i] = xf[i];
            }
        }
        int cols = x.length;
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            int base = r * cols;
            for (int c = 0; c < cols; c++) {
                s += w[base + c] * x[c];
            }
            out[r] = s;
        }
        return out;
    }

    private static double[] add(double[] x, float[] bias) {
        if (bias != null) {
            for (int i = 0; i < x.length; i++) {
                x[i] += bias[i];
            }
        }
        return x;
    }

    private static Mat mat(GgufFile f, String name) {
        return mat(f, f.tensor(name));
    }

    private static Mat mat(GgufFile f, TensorInfo t) {
        // ggml's vec_dot_type for each weight type.
        GgmlType input = switch (t.type()) {
            case F32 -> null;
            case F16 -> GgmlType.F16;
            case BF16 -> GgmlType.BF16;
            case Q4_0, Q5_0, Q8_0 -> GgmlType.Q8_0;
            case Q4_1, Q5_1 -> GgmlType.Q8_1;
            case Q4_K, Q5_K, Q6_K -> GgmlType.Q8_K;
            default -> throw new IllegalArgumentException("no reference for " + t);
        };
        return new Mat(floats(f, t), input);
    }

    private static float[] floats(GgufFile f, String name) {
        return floats(f, f.tensor(name));
    }

    private static float[] optional(GgufFile f, String name) {
        Optional<TensorInfo> t = f.findTensor(name);
        return t.map(info -> floats(f, info)).orElse(null);
    }

    private static float[] floats(GgufFile f, TensorInfo t) {
        if (t.type() == GgmlType.F32) {
            float[] out = new float[(int) t.elementCount()];
            var data = f.tensorData(t);
            for (int i = 0; i < out.length; i++) {
                out[i] = data.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i);
            }
            return out;
        }
        return BlockCodecs.dequantize(t.type(), f.tensorData(t), t.elementCount());
    }
}
