package dev.buddy.engine.synth;

import java.util.Objects;

/**
 * What to synthesise.
 *
 * @param shape the model's hyper-parameters
 * @param fileType the weight format (llama.cpp file type)
 * @param seed the random seed; the same seed, shape and type give a byte-identical file
 * @param pure give every matrix the base type instead of llama.cpp's mix (llama-quantize --pure)
 */
public record SynthesisOptions(ModelShape shape, SyntheticFileType fileType, long seed, boolean pure) {
    public SynthesisOptions {
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(fileType, "fileType");
    }
}
