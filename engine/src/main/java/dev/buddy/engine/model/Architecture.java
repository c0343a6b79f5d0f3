package dev.buddy.engine.model;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The model families Buddy runs, by their GGUF {@code general.architecture} value. */
public enum Architecture {
    /** Llama 2/3.x, TinyLlama, SmolLM2, Mistral-style: NORMAL RoPE, optional Q/K/V biases. */
    LLAMA("llama"),
    /** Qwen2 and Qwen2.5: Q/K/V biases, NeoX RoPE. */
    QWEN2("qwen2"),
    /** Qwen3 (dense): per-head Q/K RMSNorm before RoPE, head size from attention.key_length, NeoX RoPE. */
    QWEN3("qwen3");

    private final String ggufName;

    Architecture(String ggufName) {
        this.ggufName = ggufName;
    }

    /** The {@code general.architecture} value, also the prefix of the family's hyper-parameter keys. */
    public String ggufName() {
        return ggufName;
    }

    public static Architecture fromGguf(String name) {
        for (Architecture a : values()) {
            if (a.ggufName.equals(name)) {
                return a;
            }
        }
        throw new UnsupportedArchitectureException("unsupported architecture '" + name + "' (general.architecture);"
                + " supported: " + supportedNames());
    }

    public static String supportedNames() {
        return Arrays.stream(values()).map(Architecture::ggufName).collect(Collectors.joining(", "));
    }
}
