package dev.buddy.router.eval;

import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.LogitsConsumer;

/**
 * The causal language model that evaluation drives: one sequence whose positions are written in order. Running
 * tokens at positions {@code p..} overwrites whatever the KV cache held at {@code p} and beyond, and attention at
 * position {@code q} reads only positions {@code ≤ q}, so scoring several continuations after one context needs
 * nothing more than running each continuation from the position right after the context.
 */
public interface TokenModel {
    int vocabSize();

    /** Positions the sequence state holds. */
    int contextLength();

    /** Transformer blocks L. */
    int layerCount();

    /** Width of one position's layer-0 key or value row. */
    int kvDim();

    /**
     * Runs {@code tokens[offset, offset+n)} at positions {@code startPos..startPos+n−1}.
     *
     * @param planner chooses the blocks to skip for each forward call (the engine may split {@code n} into several
     *                calls); null runs every block without a planner
     * @return the logits after the last token: an array owned by the model, valid until the next call
     */
    float[] forward(int[] tokens, int offset, int startPos, int n, LayerPlanner planner);

    /**
     * Runs {@code tokens[offset, offset+n)} at positions {@code startPos..} as {@link #forward} does, and hands the
     * logits after each of them to {@code consumer} in position order: scoring a whole text in one batched pass. A
     * planner that {@linkplain LayerPlanner#plansPerToken() plans per token} gives each token its own route.
     */
    void forwardEach(int[] tokens, int offset, int startPos, int n, LayerPlanner planner, LogitsConsumer consumer);

    /** Block 0's value row at a position that has been run (and not rewound past) into {@code dst}. */
    void layer0Value(int position, float[] dst, int dstOffset);

    /** Block 0's key row (after RoPE) at a position that has been run into {@code dst}. */
    void layer0Key(int position, float[] dst, int dstOffset);
}
