package dev.buddy.router.eval;

/** Told how much work is done, e.g. by a {@link ProgressBar}. */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = units -> { };

    /** {@code units} more units of work are finished. */
    void advance(long units);
}
