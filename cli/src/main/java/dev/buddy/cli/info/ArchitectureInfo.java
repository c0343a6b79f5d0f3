package dev.buddy.cli.info;

import java.util.List;

import dev.buddy.gguf.GgufFile;

/**
 * The architecture-specific part of {@code buddy info}: the hyper-parameter sections for files whose
 * {@code general.architecture} this plug-in handles. {@link ModelInfo} asks each registered plug-in in order and
 * uses the first that handles the file; {@link TransformerInfo} handles every decoder-only transformer (llama, qwen2,
 * qwen3, ...) and comes last. A router file ({@code buddy-router}) plugs in its own implementation ahead of it.
 */
public interface ArchitectureInfo {
    boolean handles(String architecture);

    /** The sections to show between the file and tokenizer sections; keys must not be "file", "tokenizer" or "tensor_types". */
    List<InfoSection> sections(GgufFile file, String architecture);
}
