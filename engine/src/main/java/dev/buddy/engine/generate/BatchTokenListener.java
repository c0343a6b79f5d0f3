package dev.buddy.engine.generate;

/** Receives each token of a {@link BatchGenerator} run as it is generated, with the sequence it belongs to. */
@FunctionalInterface
public interface BatchTokenListener {
    /**
     * @param sequence the index of the prompt this token continues
     * @param token    the generated token id
     * @param text     the complete characters this token finishes (see {@link TokenListener#onToken})
     */
    void onToken(int sequence, int token, String text);
}
