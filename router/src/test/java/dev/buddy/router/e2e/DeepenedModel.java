package dev.buddy.router.e2e;

import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufValue;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.GgufWriter;
import dev.buddy.gguf.TensorInfo;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A deeper llama model derived from a real one: block i reuses the weights of source block i mod L0, and
 * {@code block_count} says L. The result is a well-formed model (its tokenizer and shapes are the source's) with as
 * many routable blocks as a test wants.
 */
final class DeepenedModel {
    private DeepenedModel() {}

    static Path write(Path source, Path target, int layers) throws IOException {
        try (GgufFile src = GgufFile.open(source)) {
            String arch = src.getString("general.architecture");
            int sourceLayers = src.getInt(arch + ".block_count");
            GgufWriter w = new GgufWriter();
            src.metadata().forEach((k, v) -> {
                if (!k.equals(GgufFile.KEY_ALIGNMENT)) {
                    w.put(k, v);
                }
            });
            w.put(arch + ".block_count", new GgufValue(GgufValueType.UINT32, layers));
            for (TensorInfo t : src.tensors()) {
                if (!t.name().startsWith("blk.")) {
                    w.addTensor(t.name(), t.type(), t.dims(), src.tensorData(t));
                }
            }
            for (int layer = 0; layer < layers; layer++) {
                String from = "blk." + (layer % sourceLayers) + ".";
                for (TensorInfo t : src.tensors()) {
                    if (t.name().startsWith(from)) {
                        w.addTensor("blk." + layer + "." + t.name().substring(from.length()), t.type(), t.dims(),
                                src.tensorData(t));
                    }
                }
            }
            w.write(target);
        }
        return target;
    }
}
