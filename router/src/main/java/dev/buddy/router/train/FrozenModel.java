package dev.buddy.router.train;

import java.io.IOException;
import java.nio.file.Path;

import dev.buddy.engine.model.ModelLoadException;
import dev.buddy.engine.model.LayerWeights;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.ModelWeights;
import dev.buddy.engine.model.Rope;
import dev.buddy.engine.tensor.WeightMatrix;
import dev.buddy.engine.tokenizer.Tokenizer;
import dev.buddy.engine.tokenizer.Vocabulary;
import dev.buddy.engine.tokenizer.VocabularyException;
import dev.buddy.gguf.GgufFile;
import dev.buddy.router.BaseModelInfo;

/**
 * A base model opened for router training: the engine's {@link ModelWeights}, read in place from the GGUF mapping
 * through {@link WeightMatrix} (quantised formats stay quantised, exactly the matrices inference uses) and never
 * changed.
 *
 * <p>Closing the model unmaps the file; matrices must not be used afterwards.
 */
public final class FrozenModel implements AutoCloseable {
    private final GgufFile gguf;
    private final ModelSpec spec;
    private final ModelWeights weights;
    private final Rope rope;
    private final BaseModelInfo baseInfo;
    private Tokenizer tokenizer;

    private FrozenModel(GgufFile gguf) {
        this.gguf = gguf;
        this.spec = ModelSpec.fromGguf(gguf);
        this.weights = ModelWeights.load(gguf, spec);
        this.rope = new Rope(spec.rope());
        this.baseInfo = BaseModelInfo.of(spec, gguf);
    }

    /**
     * Opens a GGUF model. Unlike {@link dev.buddy.engine.model.Model#load}, the tokenizer is read only when asked
     * for, so models without a vocabulary (synthetic test models) can be trained on token ids.
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

    /**
     * The model's tokenizer, built from its GGUF vocabulary on first use.
     *
     * @throws ModelLoadException when the file has no usable vocabulary
     */
    public synchronized Tokenizer tokenizer() {
        if (tokenizer == null) {
            try {
                tokenizer = Tokenizer.of(Vocabulary.fromGguf(gguf));
            } catch (VocabularyException e) {
                throw new ModelLoadException(gguf.path() + ": " + e.getMessage(), e);
            }
        }
        return tokenizer;
    }

    WeightMatrix embedding() {
        return weights.tokenEmbedding();
    }

    WeightMatrix lmHead() {
        return weights.output();
    }

    float[] outputNorm() {
        return weights.outputNorm();
    }

    LayerWeights[] blocks() {
        return weights.layers();
    }

    Rope rope() {
        return rope;
    }

    @Override
    public void close() {
        gguf.close();
    }
}
