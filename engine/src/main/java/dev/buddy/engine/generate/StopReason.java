package dev.buddy.engine.generate;

/** Why a generation ended. */
public enum StopReason {
    /** The model produced a stop token (EOS, end of turn); it is not part of the output. */
    END_OF_TEXT,
    /** maxTokens tokens were generated. */
    MAX_TOKENS,
    /**
     * The KV cache is full: prompt plus generated tokens reached the context size. This is a normal stop, not an
     * error; a prompt that alone does not fit fails with a ContextOverflowException instead.
     */
    CONTEXT_FULL
}
