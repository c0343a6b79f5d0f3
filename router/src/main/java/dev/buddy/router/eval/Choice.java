package dev.buddy.router.eval;

import java.util.Objects;

/**
 * One scored option of a multiple-choice example: the log-likelihood of {@code continuation} given {@code context}.
 *
 * @param context      the text the model conditions on
 * @param continuation the scored text, starting with the target delimiter (a single space)
 * @param normLength   the choice's length for acc_norm: characters (code points, as Python's {@code len}) of the
 *                     choice text without the delimiter
 */
public record Choice(String context, String continuation, int normLength) {
    public Choice {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(continuation, "continuation");
        if (normLength < 0) {
            throw new IllegalArgumentException("normLength must be >= 0, got " + normLength);
        }
    }

    /** {@code loglik(context, delimiter + text)} with acc_norm length {@code len(text)}. */
    public static Choice of(String context, String delimiter, String text) {
        return new Choice(context, delimiter + text, text.codePointCount(0, text.length()));
    }
}
