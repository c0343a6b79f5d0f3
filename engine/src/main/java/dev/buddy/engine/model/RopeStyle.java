package dev.buddy.engine.model;

/** Which dimensions of a head RoPE rotates together. */
public enum RopeStyle {
    /**
     * Adjacent pairs (x[2i], x[2i+1]): llama.cpp's rope mode 0, used by GGUF {@code llama} files (the converter
     * permutes the Hugging Face Q/K rows so that this style reproduces the original model).
     */
    NORMAL,
    /** Half-split pairs (x[i], x[i + n/2]): GPT-NeoX style, llama.cpp's mode 2, used by Qwen. */
    NEOX
}
