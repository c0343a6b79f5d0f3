package dev.buddy.engine.model;

/** What a block that the {@link LayerPlanner} skipped leaves in its KV cache slot for the new positions. */
public enum SkippedKvPolicy {
    /** Zero key and value rows, as in the BUDDY paper: later tokens attend to them with score 0. */
    ZEROS,
    /** Rows marked invalid in that layer's bitmap and left out of that layer's softmax. */
    MASK,
    /**
     * The key and value are projected anyway (attention norm, K/V projection, bias, K norm, RoPE) from the residual
     * entering the skipped block; only attention and the FFN are skipped.
     */
    COMPUTE_KV
}
