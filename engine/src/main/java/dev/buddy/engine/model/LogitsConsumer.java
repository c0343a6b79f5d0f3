package dev.buddy.engine.model;

/**
 * Receives the next-token logits of every token of a forward call, in position order (see
 * {@link Transformer#forwardEachLogits}). Called on the inference thread; the row is only valid during the call.
 */
@FunctionalInterface
public interface LogitsConsumer {
    /**
     * @param position the position of the token whose following token these logits predict
     * @param logits   an array holding the row at {@code offset}, vocabulary-size values
     */
    void accept(int position, float[] logits, int offset);
}
