package dev.buddy.engine.model;

/**
 * What a {@link LayerPlanner} may look at when it plans one forward call: the positions being computed and block 0's
 * keys and values, which already exist for them (and for every earlier position).
 */
public interface LayerPlanContext {
    /** Number of transformer blocks L. */
    int layerCount();

    /** Position of the first token of this forward call. */
    int startPosition();

    /** Number of tokens in this forward call (1 when decoding). */
    int tokenCount();

    /** Length of one position's key or value row: kv heads × head dim. */
    int kvDim();

    /** Block 0's value row at {@code position} (< startPosition + tokenCount) into {@code dst}. */
    void layer0Value(int position, float[] dst, int dstOffset);

    /** Block 0's key row (after RoPE) at {@code position} into {@code dst}. */
    void layer0Key(int position, float[] dst, int dstOffset);
}
