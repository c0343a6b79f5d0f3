package dev.buddy.engine.synth;

import java.util.Arrays;
import java.util.Locale;

import dev.buddy.gguf.GgmlType;

/**
 * What {@code buddy synth --type} offers: llama.cpp's file types ({@code enum llama_ftype} in llama.h), each with the
 * GGML type most weight matrices get. Which type each individual tensor gets is {@link QuantizationMix}'s business.
 */
public enum SyntheticFileType {
    F32("f32", 0, GgmlType.F32),
    F16("f16", 1, GgmlType.F16),
    BF16("bf16", 32, GgmlType.BF16),
    Q8_0("q8_0", 7, GgmlType.Q8_0),
    Q4_0("q4_0", 2, GgmlType.Q4_0),
    Q4_1("q4_1", 3, GgmlType.Q4_1),
    Q5_0("q5_0", 8, GgmlType.Q5_0),
    Q5_1("q5_1", 9, GgmlType.Q5_1),
    Q4_K_M("q4_k_m", 15, GgmlType.Q4_K),
    Q5_K_M("q5_k_m", 17, GgmlType.Q5_K),
    Q6_K("q6_k", 18, GgmlType.Q6_K);

    private final String cliName;
    private final int llamaFileType;
    private final GgmlType baseType;

    SyntheticFileType(String cliName, int llamaFileType, GgmlType baseType) {
        this.cliName = cliName;
        this.llamaFileType = llamaFileType;
        this.baseType = baseType;
    }

    /** The spelling on the command line, e.g. {@code q4_k_m}. */
    public String cliName() {
        return cliName;
    }

    /** The {@code general.file_type} value (LLAMA_FTYPE_*). */
    public int llamaFileType() {
        return llamaFileType;
    }

    /** The type of most weight matrices (llama.cpp's "default type" for the file type). */
    public GgmlType baseType() {
        return baseType;
    }

    /** Whether matrices are block-quantised, which is when llama.cpp applies its per-tensor mix rules. */
    public boolean isQuantized() {
        return baseType.isQuantized();
    }

    /** The file type with this command-line name (case-insensitive). */
    public static SyntheticFileType named(String name) {
        String wanted = name.toLowerCase(Locale.ROOT);
        for (SyntheticFileType t : values()) {
            if (t.cliName.equals(wanted)) {
                return t;
            }
        }
        throw new SyntheticModelException("unknown weight type '" + name + "'; known: "
                + String.join(", ", Arrays.stream(values()).map(SyntheticFileType::cliName).toList()));
    }
}
