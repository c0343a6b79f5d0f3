package dev.buddy.opencl;

import java.util.Arrays;

import dev.buddy.engine.model.LayerPlanContext;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.Rope;
import dev.buddy.engine.model.SkippedKvPolicy;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TensorInfo;
import dev.buddy.gguf.codec.BlockCodecs;

/**
 * A plain scalar Llama/Qwen forward pass for checking the device one: weights dequantised by the reference codecs,
 * every reduction in double, activations stored as floats at the same points as on the device, and (with exact
 * inputs) each matrix input converted by {@link InputReference} as the CPU backend does. One token at a time.
 */
final class ReferenceTransformer {
    private final ModelSpec spec;
    private final boolean exactInputs;
    private final SkippedKvPolicy policy;
    private final Matrix embedding;
    private final Matrix output;
    private final float[] outputNorm;
    private final Block[] blocks;
    private final Rope rope;
    private final float[][] keys;
    private final float[][] values;
    private final boolean[][] masked;

    private record Matrix(GgmlType type, int rows, int cols, float[] w) {
        float[] row(int r) {
            return Arrays.copyOfRange(w, r * cols, (r + 1) * cols);
        }
    }

    private record Block(float[] attnNorm, Matrix wq, Matrix wk, Matrix wv, Matrix wo, float[] bq, float[] bk,
            float[] bv, float[] qNorm, float[] kNorm, float[] ffnNorm, Matrix gate, Matrix up, Matrix down) {}

    ReferenceTransformer(GgufFile gguf, ModelSpec spec, int contextLength, boolean exactInputs,
            SkippedKvPolicy policy) {
        this.spec = spec;
        this.exactInputs = exactInputs;
        this.policy = policy;
        this.embedding = matrix(gguf, "token_embd.weight");
        this.output = spec.tiedEmbeddings() ? embedding : matrix(gguf, "output.weight");
        this.outputNorm = vector(gguf, "output_norm.weight");
        this.blocks = new Block[spec.blockCount()];
        for (int l = 0; l < blocks.length; l++) {
            String p = "blk." + l + ".";
            boolean bias = spec.qkvBias();
            boolean qk = spec.qkNorm();
            blocks[l] = new Block(vector(gguf, p + "attn_norm.weight"), matrix(gguf, p + "attn_q.weight"),
                    matrix(gguf, p + "attn_k.weight"), matrix(gguf, p + "attn_v.weight"),
                    matrix(gguf, p + "attn_output.weight"), bias ? vector(gguf, p + "attn_q.bias") : null,
                    bias ? vector(gguf, p + "attn_k.bias") : null, bias ? vector(gguf, p + "attn_v.bias") : null,
                    qk ? vector(gguf, p + "attn_q_norm.weight") : null, qk ? vector(gguf, p + "attn_k_norm.weight") : null,
                    vector(gguf, p + "ffn_norm.weight"), matrix(gguf, p + "ffn_gate.weight"),
                    matrix(gguf, p + "ffn_up.weight"), matrix(gguf, p + "ffn_down.weight"));
        }
        this.rope = new Rope(spec.rope());
        this.keys = new float[blocks.length][contextLength * spec.kvDim()];
        this.values = new float[blocks.length][contextLength * spec.kvDim()];
        this.masked = new boolean[blocks.length][contextLength];
    }

    /** Logits of {@code token} at {@code pos}; the planner is consulted after block 0, as on the device. */
    float[] forward(int token, int pos, LayerPlanner planner) {
        int dim = spec.embeddingLength();
        int kvDim = spec.kvDim();
        float[] x = embedding.row(token);
        boolean[] run = new boolean[blocks.length];
        Arrays.fill(run, true);
        for (int l = 0; l < blocks.length; l++) {
            if (l == 1) {
                planner.plan(planContext(pos), run);
            }
            Block b = blocks[l];
            if (l > 0 && !run[l]) {
                switch (policy) {
                    case ZEROS -> {
                        Arrays.fill(keys[l], pos * kvDim, (pos + 1) * kvDim, 0f);
                        Arrays.fill(values[l], pos * kvDim, (pos + 1) * kvDim, 0f);
                    }
                    case MASK -> masked[l][pos] = true;
                    case COMPUTE_KV -> {
                        float[] xb = rmsNorm(x, b.attnNorm, spec.rmsEps());
                        float[] kRow = keyRow(b, xb, pos);
                        System.arraycopy(kRow, 0, keys[l], pos * kvDim, kvDim);
                        System.arraycopy(valueRow(b, xb), 0, values[l], pos * kvDim, kvDim);
                    }
                }
                continue;
            }
            masked[l][pos] = false;
            float[] xb = rmsNorm(x, b.attnNorm, spec.rmsEps());
            float[] qv = matvec(b.wq, xb);
            if (b.bq != null) {
                add(qv, b.bq);
            }
            if (b.qNorm != null) {
                headNorm(qv, b.qNorm, spec.headCount());
            }
            rotate(qv, spec.headCount(), pos);
            System.arraycopy(keyRow(b, xb, pos), 0, keys[l], pos * kvDim, kvDim);
            System.arraycopy(valueRow(b, xb), 0, values[l], pos * kvDim, kvDim);
            float[] attn = attention(l, qv, pos);
            float[] o = matvec(b.wo, attn);
            for (int i = 0; i < dim; i++) {
                x[i] += o[i];
            }
            xb = rmsNorm(x, b.ffnNorm, spec.rmsEps());
            float[] g = matvec(b.gate, xb);
            float[] u = matvec(b.up, xb);
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (g[i] / (1 + Math.exp(-g[i])) * u[i]);
            }
            float[] d = matvec(b.down, g);
            for (int i = 0; i < dim; i++) {
                x[i] += d[i];
            }
        }
        return matvec(output, rmsNorm(x, outputNorm, spec.rmsEps()));
    }

    float[] layer0Value(int pos) {
        return Arrays.copyOfRange(values[0], pos * spec.kvDim(), (pos + 1) * spec.kvDim());
    }

    private LayerPlanContext planContext(int pos) {
        return new LayerPlanContext() {
            public int layerCount() {
                return blocks.length;
            }

            public int startPosition() {
                return pos;
            }

            public int tokenCount() {
                return 1;
            }

            public int kvDim() {
                return spec.kvDim();
            }

            public void layer0Value(int position, float[] dst, int dstOffset) {
                System.arraycopy(values[0], position * spec.kvDim(), dst, dstOffset, spec.kvDim());
            }

            public void layer0Key(int position, float[] dst, int dstOffset) {
                System.arraycopy(keys[0], position * spec.kvDim(), dst, dstOffset, spec.kvDim());
            }
        };
    }

    private float[] keyRow(Block b, float[] xb, int pos) {
        float[] kv = matvec(b.wk, xb);
        if (b.bk != null) {
            add(kv, b.bk);
        }
        if (b.kNorm != null) {
            headNorm(kv, b.kNorm, spec.headCountKv());
        }
        rotate(kv, spec.headCountKv(), pos);
        return kv;
    }

    private float[] valueRow(Block b, float[] xb) {
        float[] v = matvec(b.wv, xb);
        if (b.bv != null) {
            add(v, b.bv);
        }
        return v;
    }

    private float[] attention(int l, float[] qv, int pos) {
        int hd = spec.headDim();
        int kvDim = spec.kvDim();
        float[] out = new float[spec.queryDim()];
        double scale = 1 / Math.sqrt(hd);
        for (int h = 0; h < spec.headCount(); h++) {
            int kh = h / spec.groupSize();
            double[] s = new double[pos + 1];
            double max = Double.NEGATIVE_INFINITY;
            for (int p = 0; p <= pos; p++) {
                if (policy == SkippedKvPolicy.MASK && masked[l][p]) {
                    s[p] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double dot = 0;
                for (int e = 0; e < hd; e++) {
                    dot += (double) qv[h * hd + e] * keys[l][p * kvDim + kh * hd + e];
                }
                s[p] = dot * scale;
                max = Math.max(max, s[p]);
            }
            double sum = 0;
            for (int p = 0; p <= pos; p++) {
                s[p] = s[p] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[p] - max);
                sum += s[p];
            }
            for (int e = 0; e < hd; e++) {
                double o = 0;
                for (int p = 0; p <= pos; p++) {
                    o += s[p] * values[l][p * kvDim + kh * hd + e];
                }
                out[h * hd + e] = (float) (o / sum);
            }
        }
        return out;
    }

    private float[] matvec(Matrix m, float[] x) {
        InputFormat f = exactInputs ? InputFormat.forWeight(m.type) : InputFormat.FLOAT;
        if (f == InputFormat.Q8_1) {
            throw new UnsupportedOperationException("the reference forward does not model Q4_1's stored block sums");
        }
        double[] xv = new double[x.length];
        InputReference conv = f == InputFormat.FLOAT ? null : InputReference.of(f, x);
        for (int i = 0; i < x.length; i++) {
            xv[i] = conv == null ? x[i] : conv.value(i);
        }
        float[] out = new float[m.rows];
        for (int r = 0; r < m.rows; r++) {
            double s = 0;
            for (int i = 0; i < m.cols; i++) {
                s += m.w[r * m.cols + i] * xv[i];
            }
            out[r] = (float) s;
        }
        return out;
    }

    private static float[] rmsNorm(float[] x, float[] w, float eps) {
        return rmsNorm(x, 0, x.length, w, eps);
    }

    private static float[] rmsNorm(float[] x, int off, int n, float[] w, float eps) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (double) x[off + i] * x[off + i];
        }
        double scale = 1 / Math.sqrt(ss / n + eps);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) (x[off + i] * scale * w[i]);
        }
        return out;
    }

    private void headNorm(float[] v, float[] w, int heads) {
        int hd = spec.headDim();
        for (int h = 0; h < heads; h++) {
            System.arraycopy(rmsNorm(v, h * hd, hd, w, spec.rmsEps()), 0, v, h * hd, hd);
        }
    }

    private void rotate(float[] v, int heads, int pos) {
        int pairs = rope.dimensions() / 2;
        float[] cos = new float[pairs];
        float[] sin = new float[pairs];
        rope.angles(pos, cos, sin, 0);
        for (int h = 0; h < heads; h++) {
            rope.rotate(v, h * spec.headDim(), cos, sin, 0);
        }
    }

    private static void add(float[] x, float[] b) {
        for (int i = 0; i < x.length; i++) {
            x[i] += b[i];
        }
    }

    private static Matrix matrix(GgufFile gguf, String name) {
        TensorInfo t = gguf.tensor(name);
        return new Matrix(t.type(), (int) t.dims()[1], (int) t.dims()[0],
                BlockCodecs.dequantize(t.type(), gguf.tensorData(t), t.elementCount()));
    }

    private static float[] vector(GgufFile gguf, String name) {
        TensorInfo t = gguf.tensor(name);
        return BlockCodecs.dequantize(t.type(), gguf.tensorData(t), t.elementCount());
    }
}
