package dev.buddy.cli.bench;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.TensorInfo;

/**
 * What llama-bench's model columns say about a file: a description, the weight bytes and the parameter count.
 *
 * @param fileName the file's name
 * @param description architecture, size class and the matrix types by share of bytes, e.g. "llama 1.2B Q4_K/Q6_K"
 * @param sizeBytes tensor data bytes
 * @param parameters tensor elements
 */
record BenchModelInfo(String fileName, String description, long sizeBytes, long parameters) {
    static BenchModelInfo of(GgufFile gguf) {
        long bytes = 0;
        long parameters = 0;
        Map<GgmlType, Long> matrixBytes = new EnumMap<>(GgmlType.class);
        for (TensorInfo t : gguf.tensors()) {
            bytes += t.byteSize();
            parameters += t.elementCount();
            if (t.dims().length >= 2) {
                matrixBytes.merge(t.type(), t.byteSize(), Long::sum);
            }
        }
        String types = matrixBytes.entrySet().stream()
                .sorted(Map.Entry.<GgmlType, Long>comparingByValue().reversed())
                .map(e -> e.getKey().name()).collect(Collectors.joining("/"));
        // general.architecture: the family, as llama.cpp's model description starts.
        String description = gguf.getString("general.architecture", "?") + " " + sizeClass(parameters) + " " + types;
        return new BenchModelInfo(gguf.path().getFileName().toString(), description, bytes, parameters);
    }

    /** "1.2B", "494M", "135M": the parameter count as model names give it. */
    static String sizeClass(long parameters) {
        if (parameters >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.1fB", parameters / 1e9);
        }
        if (parameters >= 1_000_000L) {
            return String.format(Locale.ROOT, "%dM", Math.round(parameters / 1e6));
        }
        return String.format(Locale.ROOT, "%dK", Math.round(parameters / 1e3));
    }
}
