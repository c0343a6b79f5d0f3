package dev.buddy.engine.e2e;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufValue;
import dev.buddy.gguf.GgufWriter;
import dev.buddy.gguf.TensorInfo;

/**
 * Writes a modified copy of a GGUF file: metadata overrides and a tensor renaming (null drops a tensor), used by tests
 * to derive broken or smaller models from a real one.
 */
public final class GgufEdit {
    private GgufEdit() {}

    /** A tensor's replacement: new type, dims and raw bytes. */
    public record Replacement(GgmlType type, long[] dims, byte[] data) {}

    public static Path copy(Path source, Path target, Map<String, GgufValue> metadata,
            Function<String, String> renameTensor) throws IOException {
        return copy(source, target, metadata, renameTensor, Map.of());
    }

    /**
     * @param metadata keys to put or replace (a null value removes the key)
     * @param renameTensor maps each tensor name to its new name, or null to drop it
     */
    public static Path copy(Path source, Path target, Map<String, GgufValue> metadata,
            Function<String, String> renameTensor, Map<String, Replacement> replacements) throws IOException {
        try (GgufFile src = GgufFile.open(source)) {
            GgufWriter w = new GgufWriter();
            src.metadata().forEach((k, v) -> {
                if (!k.equals(GgufFile.KEY_ALIGNMENT) && !metadata.containsKey(k)) {
                    w.put(k, v);
                }
            });
            metadata.forEach((k, v) -> {
                if (v != null) {
                    w.put(k, v);
                }
            });
            for (TensorInfo t : src.tensors()) {
                String name = renameTensor.apply(t.name());
                Replacement r = replacements.get(t.name());
                if (name != null && r != null) {
                    w.addTensor(name, r.type(), r.dims(), r.data());
                } else if (name != null) {
                    w.addTensor(name, t.type(), t.dims(), src.tensorData(t));
                }
            }
            w.write(target);
        }
        return target;
    }
}
