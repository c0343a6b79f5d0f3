package dev.buddy.engine.synth;

/** What a tensor of a Llama/Qwen2 GGUF is for; decides its type, its shape and how its random values are drawn. */
public enum TensorRole {
    TOKEN_EMBEDDING("token_embd.weight"),
    ROPE_FREQUENCIES("rope_freqs.weight"),
    ATTENTION_NORM("attn_norm.weight"),
    ATTENTION_Q("attn_q.weight"),
    ATTENTION_Q_BIAS("attn_q.bias"),
    ATTENTION_K("attn_k.weight"),
    ATTENTION_K_BIAS("attn_k.bias"),
    ATTENTION_V("attn_v.weight"),
    ATTENTION_V_BIAS("attn_v.bias"),
    ATTENTION_OUTPUT("attn_output.weight"),
    FFN_NORM("ffn_norm.weight"),
    FFN_GATE("ffn_gate.weight"),
    FFN_UP("ffn_up.weight"),
    FFN_DOWN("ffn_down.weight"),
    OUTPUT_NORM("output_norm.weight"),
    OUTPUT("output.weight");

    private final String suffix;

    TensorRole(String suffix) {
        this.suffix = suffix;
    }

    /** The GGUF tensor name; per-block tensors are prefixed with {@code blk.N.}. */
    public String tensorName(int layer) {
        return isPerBlock() ? "blk." + layer + "." + suffix : suffix;
    }

    public boolean isPerBlock() {
        return this != TOKEN_EMBEDDING && this != ROPE_FREQUENCIES && this != OUTPUT_NORM && this != OUTPUT;
    }

    /** Two-dimensional weight matrices: the tensors llama.cpp quantises. */
    public boolean isMatrix() {
        return switch (this) {
            case TOKEN_EMBEDDING, ATTENTION_Q, ATTENTION_K, ATTENTION_V, ATTENTION_OUTPUT, FFN_GATE, FFN_UP, FFN_DOWN,
                    OUTPUT -> true;
            default -> false;
        };
    }

    public boolean isNorm() {
        return this == ATTENTION_NORM || this == FFN_NORM || this == OUTPUT_NORM;
    }

    public boolean isBias() {
        return this == ATTENTION_Q_BIAS || this == ATTENTION_K_BIAS || this == ATTENTION_V_BIAS;
    }
}
