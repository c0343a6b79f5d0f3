package dev.buddy.router.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufWriter;
import dev.buddy.gguf.codec.BlockCodecs;

/**
 * Tiny random models written as real GGUF files, one per supported family, so the training pass is checked on every
 * code path the families take: llama (NORMAL RoPE, GQA), qwen2 (NeoX RoPE, Q/K/V biases), qwen3 (NeoX RoPE, per-head
 * Q/K RMSNorm, head size from {@code attention.key_length} so Q is wider than the residual). Weights are scaled
 * like an initialised network (row norms near 1) so activations stay O(1) and finite differences are meaningful.
 */
record SyntheticModel(String architecture, int blocks, int dim, int heads, int kvHeads, int headDim, int ffn,
                      int vocab, boolean tied, GgmlType matrixType) {

    static SyntheticModel llama() {
        return new SyntheticModel("llama", 4, 32, 4, 2, 8, 64, 48, false, GgmlType.F32);
    }

    static SyntheticModel qwen2() {
        return new SyntheticModel("qwen2", 4, 32, 4, 2, 8, 64, 48, true, GgmlType.F32);
    }

    static SyntheticModel qwen3() {
        return new SyntheticModel("qwen3", 4, 32, 4, 1, 16, 64, 48, false, GgmlType.F32);
    }

    /** The same family with its matrices stored as Q8_0 (every row length is a multiple of 32). */
    SyntheticModel quantised() {
        return new SyntheticModel(architecture, blocks, dim, heads, kvHeads, headDim, ffn, vocab, tied, GgmlType.Q8_0);
    }

    Path write(Path dir, long seed) throws IOException {
        return write(dir, seed, -1);
    }

    /**
     * Writes the model; block {@code silentBlock} (if any) gets zero output projections, so its residual branch F is
     * exactly zero and the block does nothing.
     */
    Path write(Path dir, long seed, int silentBlock) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        GgufWriter w = new GgufWriter();
        String a = architecture + ".";
        w.putString("general.architecture", architecture);
        w.putUInt32(a + "block_count", blocks);
        w.putUInt32(a + "embedding_length", dim);
        w.putUInt32(a + "feed_forward_length", ffn);
        w.putUInt32(a + "attention.head_count", heads);
        w.putUInt32(a + "attention.head_count_kv", kvHeads);
        w.putUInt32(a + "attention.key_length", headDim);
        w.putUInt32(a + "attention.value_length", headDim);
        w.putUInt32(a + "context_length", 256);
        w.putFloat32(a + "attention.layer_norm_rms_epsilon", 1e-5f);
        w.putFloat32(a + "rope.freq_base", 10000f);
        int qDim = heads * headDim;
        int kvDim = kvHeads * headDim;
        matrix(w, "token_embd.weight", dim, vocab, random, 1.0);
        vector(w, "output_norm.weight", dim, random, 1.0, 0.2);
        if (!tied) {
            matrix(w, "output.weight", dim, vocab, random, 1.0);
        }
        for (int b = 0; b < blocks; b++) {
            String p = "blk." + b + ".";
            vector(w, p + "attn_norm.weight", dim, random, 1.0, 0.2);
            matrix(w, p + "attn_q.weight", dim, qDim, random, 1.5);
            matrix(w, p + "attn_k.weight", dim, kvDim, random, 1.5);
            matrix(w, p + "attn_v.weight", dim, kvDim, random, 1.0);
            matrix(w, p + "attn_output.weight", qDim, dim, random, b == silentBlock ? 0.0 : 0.7);
            if (architecture.equals("qwen2")) {
                vector(w, p + "attn_q.bias", qDim, random, 0.0, 0.3);
                vector(w, p + "attn_k.bias", kvDim, random, 0.0, 0.3);
                vector(w, p + "attn_v.bias", kvDim, random, 0.0, 0.3);
            }
            if (architecture.equals("qwen3")) {
                vector(w, p + "attn_q_norm.weight", headDim, random, 1.0, 0.2);
                vector(w, p + "attn_k_norm.weight", headDim, random, 1.0, 0.2);
            }
            vector(w, p + "ffn_norm.weight", dim, random, 1.0, 0.2);
            matrix(w, p + "ffn_gate.weight", dim, ffn, random, 1.0);
            matrix(w, p + "ffn_up.weight", dim, ffn, random, 1.0);
            matrix(w, p + "ffn_down.weight", ffn, dim, random, b == silentBlock ? 0.0 : 0.7);
        }
        Path file = Files.createTempFile(dir, architecture + "-", ".gguf");
        w.write(file);
        return file;
    }

    private void matrix(GgufWriter w, String name, int cols, int rows, SplittableRandom random, double gain) {
        float[] values = new float[cols * rows];
        double std = gain / Math.sqrt(cols);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (gaussian(random) * std);
        }
        long[] dims = {cols, rows};
        if (matrixType == GgmlType.F32) {
            w.addTensor(name, dims, values);
        } else {
            w.addTensor(name, matrixType, dims, BlockCodecs.quantize(matrixType, values));
        }
    }

    private static void vector(GgufWriter w, String name, int n, SplittableRandom random, double mean, double std) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) (mean + gaussian(random) * std);
        }
        w.addTensor(name, new long[] {n}, values);
    }

    static double gaussian(SplittableRandom random) {
        // Box–Muller: SplittableRandom has no nextGaussian on every JDK we target.
        double u = random.nextDouble(Double.MIN_VALUE, 1.0);
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** Closes property-test models and deletes the directory they were written to (one level, files only). */
    static void closeAndDelete(java.util.Collection<FrozenModel> models, Path dir) throws IOException {
        models.forEach(FrozenModel::close);
        try (var files = java.nio.file.Files.list(dir)) {
            for (Path p : files.toList()) {
                java.nio.file.Files.delete(p);
            }
        }
        java.nio.file.Files.delete(dir);
    }
}
