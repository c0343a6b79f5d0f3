package dev.buddy.engine.model;

import java.io.IOException;
import java.nio.file.Path;

import dev.buddy.engine.tensor.VectorWidth;
import dev.buddy.engine.tokenizer.Tokenizer;
import dev.buddy.engine.tokenizer.Vocabulary;
import dev.buddy.engine.tokenizer.VocabularyException;
import dev.buddy.gguf.GgufFile;

/**
 * A loaded model: its {@link ModelSpec}, {@link ModelWeights} and {@link Tokenizer}, backed by the memory-mapped GGUF
 * file, which stays open until {@link #close()}.
 */
public final class Model implements AutoCloseable {
    private final GgufFile gguf;
    private final ModelSpec spec;
    private final ModelWeights weights;
    private final Tokenizer tokenizer;

    private Model(GgufFile gguf, ModelSpec spec, ModelWeights weights, Tokenizer tokenizer) {
        this.gguf = gguf;
        this.spec = spec;
        this.weights = weights;
        this.tokenizer = tokenizer;
    }

    /**
     * Opens a GGUF model.
     *
     * @throws IOException if the file cannot be read
     * @throws ModelLoadException if the architecture, a tensor or a hyper-parameter is not supported
     */
    public static Model load(Path path) throws IOException {
        return load(path, VectorWidth.preferred());
    }

    /**
     * Opens a GGUF model whose matrix products use kernels of the given width ({@link VectorWidth#SCALAR} is the
     * plain reference, whose results do not depend on how many tokens a call holds).
     */
    public static Model load(Path path, VectorWidth width) throws IOException {
        GgufFile gguf = GgufFile.open(path);
        try {
            ModelSpec spec = ModelSpec.fromGguf(gguf);
            ModelWeights weights = ModelWeights.load(gguf, spec, width);
            return new Model(gguf, spec, weights, tokenizer(gguf, spec));
        } catch (RuntimeException e) {
            gguf.close();
            throw e;
        }
    }

    /**
     * This model with other weights over the same file, e.g. {@link ModelWeights#withLayerMatrices decorated} by a
     * LoRA adapter. The result shares this model's file: close one of the two, and use only the result afterwards.
     *
     * @throws IllegalArgumentException when the weights have a different number of blocks
     */
    public Model withWeights(ModelWeights adapted) {
        if (adapted.layers().length != spec.blockCount()) {
            throw new IllegalArgumentException("weights of " + adapted.layers().length + " blocks for a "
                    + spec.blockCount() + "-block model");
        }
        return new Model(gguf, spec, adapted, tokenizer);
    }

    public ModelSpec spec() {
        return spec;
    }

    public ModelWeights weights() {
        return weights;
    }

    /** The tokenizer described by the file's {@code tokenizer.ggml.*} metadata. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The open file, for metadata such as the tokenizer. */
    public GgufFile gguf() {
        return gguf;
    }

    public Path path() {
        return gguf.path();
    }

    private static Tokenizer tokenizer(GgufFile gguf, ModelSpec spec) {
        Tokenizer tokenizer;
        try {
            tokenizer = Tokenizer.of(Vocabulary.fromGguf(gguf));
        } catch (VocabularyException e) {
            throw new ModelLoadException(gguf.path() + ": " + e.getMessage(), e);
        }
        int size = tokenizer.vocabulary().size();
        if (size > spec.vocabSize()) {
            throw new ModelLoadException("the tokenizer has " + size + " tokens but token_embd.weight only "
                    + spec.vocabSize() + " rows");
        }
        return tokenizer;
    }

    /** Unmaps the file; weights become unusable. */
    @Override
    public void close() {
        gguf.close();
    }
}
