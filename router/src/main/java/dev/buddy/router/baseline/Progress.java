package dev.buddy.router.baseline;

/** Told after each calibration pass (one run over all calibration tokens) of a baseline's search. */
@FunctionalInterface
public interface Progress {
    Progress NONE = (done, total) -> { };

    /** {@code done} of {@code total} passes have finished. */
    void passDone(int done, int total);
}
