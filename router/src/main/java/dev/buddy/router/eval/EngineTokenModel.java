package dev.buddy.router.eval;

import dev.buddy.engine.model.InferenceState;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.LogitsConsumer;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.engine.model.Transformer;

import java.util.Objects;

/**
 * Buddy's engine as evaluation's {@link TokenModel}: one {@link InferenceState} driven through
 * {@link Transformer#forward}. A call at position 0 starts a new sequence, so the cache's validity marks (the
 * {@code MASK} policy's skipped rows) of the previous sequence are forgotten; at any other position the rows there and
 * beyond are simply overwritten, which is all rewinding needs (the engine stores every layer's row and its validity
 * at each position it runs, and attention at a position reads no later one).
 */
public final class EngineTokenModel implements TokenModel {
    private final Transformer transformer;
    private final InferenceState state;
    private final ModelSpec spec;

    public EngineTokenModel(Transformer transformer, InferenceState state) {
        this.transformer = Objects.requireNonNull(transformer, "transformer");
        this.state = Objects.requireNonNull(state, "state");
        this.spec = transformer.spec();
    }

    @Override
    public int vocabSize() {
        return spec.vocabSize();
    }

    @Override
    public int contextLength() {
        return state.contextLength();
    }

    @Override
    public int layerCount() {
        return spec.blockCount();
    }

    @Override
    public int kvDim() {
        return spec.kvDim();
    }

    @Override
    public float[] forward(int[] tokens, int offset, int startPos, int n, LayerPlanner planner) {
        if (startPos == 0) {
            state.reset();
        }
        return transformer.forward(state, tokens, offset, startPos, n, planner, true);
    }

    @Override
    public void forwardEach(int[] tokens, int offset, int startPos, int n, LayerPlanner planner,
            LogitsConsumer consumer) {
        if (startPos == 0) {
            state.reset();
        }
        transformer.forwardEachLogits(state, tokens, offset, startPos, n, planner, consumer);
    }

    @Override
    public void layer0Value(int position, float[] dst, int dstOffset) {
        state.kvCache().readValue(0, position, dst, dstOffset);
    }

    @Override
    public void layer0Key(int position, float[] dst, int dstOffset) {
        state.kvCache().readKey(0, position, dst, dstOffset);
    }
}
