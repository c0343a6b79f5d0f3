package dev.buddy.engine.model;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.engine.tensor.WeightMatrix;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TensorInfo;

/**
 * All tensors of a model, as zero-copy {@link WeightMatrix} views of the mapped file (norm and bias vectors are small
 * and copied to float arrays). {@code output} is {@code tokenEmbedding} itself when the embeddings are tied.
 */
public record ModelWeights(WeightMatrix tokenEmbedding, LayerWeights[] layers, float[] outputNorm,
        WeightMatrix output) {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Binds every tensor the spec needs, checking names, types and shapes; kernels of the preferred width. Ends by
     * giving the file's touched pages back ({@link GgufFile#releaseResidentPages}).
     */
    public static ModelWeights load(GgufFile gguf, ModelSpec spec) {
        return load(gguf, spec, VectorWidth.preferred());
    }

    /** As {@link #load(GgufFile, ModelSpec)}, with kernels of the given vector width (SCALAR: the reference). */
    public static ModelWeights load(GgufFile gguf, ModelSpec spec, VectorWidth width) {
        Binder b = new Binder(gguf, width);
        int dim = spec.embeddingLength();
        int qDim = spec.queryDim();
        int kvDim = spec.kvDim();
        int ffn = spec.feedForwardLength();
        int hd = spec.headDim();
        // untied, the table is only ever looked up row by row: at the scalar width no format copies it into row
        // groups (on AVX-512, Q4_0, Q4_1), which would double a table that no kernel multiplies
        WeightMatrix embedding = spec.tiedEmbeddings() ? b.matrix("token_embd.weight", dim, spec.vocabSize())
                : new Binder(gguf, VectorWidth.SCALAR).matrix("token_embd.weight", dim, spec.vocabSize());
        LayerWeights[] layers = new LayerWeights[spec.blockCount()];
        for (int l = 0; l < layers.length; l++) {
            String p = "blk." + l + ".";
            layers[l] = new LayerWeights(
                    b.vector(p + "attn_norm.weight", dim),
                    b.matrix(p + "attn_q.weight", dim, qDim),
                    b.matrix(p + "attn_k.weight", dim, kvDim),
                    b.matrix(p + "attn_v.weight", dim, kvDim),
                    b.matrix(p + "attn_output.weight", qDim, dim),
                    spec.qkvBias() ? b.vector(p + "attn_q.bias", qDim) : null,
                    spec.qkvBias() ? b.vector(p + "attn_k.bias", kvDim) : null,
                    spec.qkvBias() ? b.vector(p + "attn_v.bias", kvDim) : null,
                    spec.qkNorm() ? b.vector(p + "attn_q_norm.weight", hd) : null,
                    spec.qkNorm() ? b.vector(p + "attn_k_norm.weight", hd) : null,
                    b.vector(p + "ffn_norm.weight", dim),
                    b.matrix(p + "ffn_gate.weight", dim, ffn),
                    b.matrix(p + "ffn_up.weight", dim, ffn),
                    b.matrix(p + "ffn_down.weight", ffn, dim));
        }
        float[] outputNorm = b.vector("output_norm.weight", dim);
        WeightMatrix output = spec.tiedEmbeddings() ? embedding : b.matrix("output.weight", dim, spec.vocabSize());
        // Metadata, norms and biases are on the heap now, and most formats' weights in copies of their own
        // (RowGroupLayout), but reading a bias maps back part of the matrix copied just before it: give every touched
        // page back; what the forward pass still reads from the file comes back on first touch.
        gguf.releaseResidentPages();
        return new ModelWeights(embedding, layers, outputNorm, output);
    }

    /** Replaces a block's projection matrix, e.g. by one with a low-rank adapter ({@link WeightMatrix#withAddend}). */
    @FunctionalInterface
    public interface LayerMatrixDecorator {
        /** The matrix block {@code layer} uses instead of {@code base} (which it may return unchanged). */
        WeightMatrix decorate(int layer, WeightMatrix base);
    }

    /**
     * These weights with every block's seven projections (q, k, v, output, gate, up, down) passed through
     * {@code decorator}; embeddings, norms, biases and the output head stay as they are. The mapped data is shared.
     */
    public ModelWeights withLayerMatrices(LayerMatrixDecorator decorator) {
        LayerWeights[] decorated = new LayerWeights[layers.length];
        for (int l = 0; l < layers.length; l++) {
            LayerWeights w = layers[l];
            decorated[l] = new LayerWeights(w.attentionNorm(),
                    decorator.decorate(l, w.wq()), decorator.decorate(l, w.wk()), decorator.decorate(l, w.wv()),
                    decorator.decorate(l, w.wo()), w.bq(), w.bk(), w.bv(), w.qNorm(), w.kNorm(), w.ffnNorm(),
                    decorator.decorate(l, w.ffnGate()), decorator.decorate(l, w.ffnUp()),
                    decorator.decorate(l, w.ffnDown()));
        }
        return new ModelWeights(tokenEmbedding, decorated, outputNorm, output);
    }

    /** Looks tensors up by name and turns a wrong name, type or shape into a message naming the tensor. */
    private record Binder(GgufFile gguf, VectorWidth width) {
        TensorInfo find(String name, String expected) {
            return gguf.findTensor(name).orElseThrow(() -> new ModelLoadException(
                    "missing tensor '" + name + "' (expected " + expected + ")"));
        }

        WeightMatrix matrix(String name, int cols, int rows) {
            String expected = "a matrix of " + rows + " rows × " + cols + " columns, dims [" + cols + ", " + rows + "]";
            TensorInfo t = find(name, expected);
            if (t.dim(0) != cols || t.dim(1) != rows || t.elementCount() != (long) cols * rows) {
                throw new ModelLoadException("tensor '" + name + "' has dims " + Arrays.toString(t.dims())
                        + ", expected " + expected);
            }
            if (!t.type().isSupportedForCompute()) {
                throw new ModelLoadException("tensor '" + name + "' has type " + t.type()
                        + ", which Buddy cannot compute with; expected one of "
                        + "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K");
            }
            return WeightMatrix.of(name, t.type(), new long[] {cols, rows}, gguf.tensorData(t), width);
        }

        float[] vector(String name, int length) {
            String expected = "a vector of " + length + " F32/F16/BF16 values";
            TensorInfo t = find(name, expected);
            if (t.elementCount() != length || t.dim(0) != length) {
                throw new ModelLoadException("tensor '" + name + "' has dims " + Arrays.toString(t.dims())
                        + ", expected " + expected);
            }
            MemorySegment data = gguf.tensorData(t);
            float[] v = new float[length];
            for (int i = 0; i < length; i++) {
                v[i] = switch (t.type()) {
                    case F32 -> data.getAtIndex(F32, i);
                    case F16 -> Float.float16ToFloat(data.getAtIndex(I16, i));
                    case BF16 -> Float.intBitsToFloat(data.getAtIndex(I16, i) << 16);
                    default -> throw new ModelLoadException("tensor '" + name + "' has type " + t.type()
                            + ", expected " + expected);
                };
            }
            return v;
        }
    }
}
