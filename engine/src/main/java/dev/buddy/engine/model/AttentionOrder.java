package dev.buddy.engine.model;

/**
 * The order in which a sequence's attention sums its dot products and softmax-weighted values. llama.cpp sums them
 * one way for a lone token (ggml_vec_dot) and another for a batch (tinyBLAS); the results differ in the last bits,
 * and with an F16 cache such a bit can flip the F16 rounding of a softmax weight and move the logits visibly.
 */
public enum AttentionOrder {
    /**
     * As llama.cpp: a forward call carrying two or more tokens of the sequence sums in the batch order, a call of one
     * token in the one-token order. Greedy decoding then matches llama.cpp token for token. The default.
     */
    LLAMA_CPP,
    /**
     * Every row sums as a lone token does, however many tokens the call carries: a batched call under per-token
     * layer plans then computes what one call per token computes (bit for bit with the scalar kernels), e.g. to score
     * a text with exactly the logits that decoding it token by token would produce.
     */
    ONE_TOKEN
}
