package dev.buddy.router.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import dev.buddy.engine.model.ModelLoadException;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.Rope;
import dev.buddy.engine.tensor.WeightMatrix;
import dev.buddy.engine.tokenizer.Tokenizer;
import dev.buddy.engine.tokenizer.Vocabulary;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TensorInfo;
import dev.buddy.gguf.codec.BlockCodecs;
import dev.buddy.router.BaseModelInfo;

/**
 * A base model opened for router training: the weights are read in place from the GGUF mapping through
 * {@link WeightMatrix} (quantised formats stay quantised) and never change. Tensor names are llama.cpp's
 * ({@code token_embd.weight}, {@code blk.N.attn_q.weight}, …); which optional tensors exist follows the
 * {@link ModelSpec} flags (Q/K/V biases, Q/K norms, tied output).
 *
 * <p>Closing the model unmaps the file; matrices must not be used afterwards.
 */
public final class FrozenModel implements AutoCloseable {
    private final GgufFile gguf;
    private final ModelSpec spec;
    private final WeightMatrix embedding;
    private final WeightMatrix lmHead;
    private final float[] outputNorm;
    private final FrozenBlock[] blocks;
    private final Rope rope;
    private final BaseModelInfo baseInfo;
    private Tokenizer tokenizer;

    private FrozenModel(GgufFile gguf) {
        this.gguf = gguf;
        this.spec = ModelSpec.fromGguf(gguf);
        this.embedding = matrix("token_embd.weight", spec.embeddingLength(), spec.vocabSize());
        this.lmHead = spec.tiedEmbeddings() ? embedding
                : matrix("output.weight", spec.embeddingLength(), spec.vocabSize());
        this.outputNorm = vector("output_norm.weight", spec.embeddingLength());
        this.blocks = new FrozenBlock[spec.blockCount()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = block(i);
        }
        this.rope = new Rope(spec.rope());
        this.baseInfo = BaseModelInfo.of(spec, gguf);
    }

    /**
     * Opens a GGUF model.
     *
     * @throws ModelLoadException when a tensor is missing or mis-shaped, or the architecture is unsupported
     */
    public static FrozenModel open(Path path) throws IOException {
        GgufFile gguf = GgufFile.open(path);
        try {
            return new FrozenModel(gguf);
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    private FrozenBlock block(int i) {
        String p = "blk." + i + ".";
        int dim = spec.embeddingLength();
        int qDim = spec.queryDim();
        int kvDim = spec.kvDim();
        int ffn = spec.feedForwardLength();
        boolean bias = spec.qkvBias();
        boolean qkNorm = spec.qkNorm();
        return new FrozenBlock(
                vector(p + "attn_norm.weight", dim),
                matrix(p + "attn_q.weight", dim, qDim),
                matrix(p + "attn_k.weight", dim, kvDim),
                matrix(p + "attn_v.weight", dim, kvDim),
                matrix(p + "attn_output.weight", qDim, dim),
                bias ? vector(p + "attn_q.bias", qDim) : null,
                bias ? vector(p + "attn_k.bias", kvDim) : null,
                bias ? vector(p + "attn_v.bias", kvDim) : null,
                qkNorm ? vector(p + "attn_q_norm.weight", spec.headDim()) : null,
                qkNorm ? vector(p + "attn_k_norm.weight", spec.headDim()) : null,
                vector(p + "ffn_norm.weight", dim),
                matrix(p + "ffn_gate.weight", dim, ffn),
                matrix(p + "ffn_up.weight", dim, ffn),
                matrix(p + "ffn_down.weight", ffn, dim));
    }

    private TensorInfo tensor(String name) {
        Optional<TensorInfo> t = gguf.findTensor(name);
        return t.orElseThrow(() -> new ModelLoadException(gguf.path() + ": missing tensor '" + name + "'"));
    }

    private WeightMatrix matrix(String name, int cols, int rows) {
        TensorInfo t = tensor(name);
        long[] dims = t.dims();
        if (dims.length != 2 || dims[0] != cols || dims[1] != rows) {
            throw new ModelLoadException(gguf.path() + ": tensor '" + name + "' has shape "
                    + java.util.Arrays.toString(dims) + ", expected [" + cols + ", " + rows + "]");
        }
        return WeightMatrix.of(name, t.type(), dims, gguf.tensorData(t));
    }

    private float[] vector(String name, int length) {
        TensorInfo t = tensor(name);
        if (t.elementCount() != length) {
            throw new ModelLoadException(gguf.path() + ": tensor '" + name + "' has " + t.elementCount()
                    + " elements, expected " + length);
        }
        return BlockCodecs.dequantize(t.type(), gguf.tensorData(t), length);
    }

    public ModelSpec spec() {
        return spec;
    }

    /** What a router file records about this model (fingerprint, depth, feature widths). */
    public BaseModelInfo baseInfo() {
        return baseInfo;
    }

    public Path path() {
        return gguf.path();
    }

    /** The model's tokenizer, built from its GGUF vocabulary on first use. */
    public synchronized Tokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = Tokenizer.of(Vocabulary.fromGguf(gguf));
        }
        return tokenizer;
    }

    WeightMatrix embedding() {
        return embedding;
    }

    WeightMatrix lmHead() {
        return lmHead;
    }

    float[] outputNorm() {
        return outputNorm;
    }

    FrozenBlock[] blocks() {
        return blocks;
    }

    Rope rope() {
        return rope;
    }

    @Override
    public void close() {
        gguf.close();
    }
}
