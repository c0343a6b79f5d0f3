package dev.buddy.router.train;

/**
 * Linear warm-up to the peak rate, then linear decay to zero at the last step: the Hugging Face Trainer's default
 * ({@code get_linear_schedule_with_warmup}), which is what the paper's "lr 1e-4, 100 warm-up steps" most likely ran
 * with. Steps count from 0; step s of the warm-up uses {@code lr·(s+1)/warmup}, so no step is wasted at rate 0.
 *
 * @param peak   the peak learning rate (0: nothing moves, for a router kept frozen)
 * @param warmup warm-up steps
 * @param total  total optimiser steps of the run
 */
record LearningRateSchedule(double peak, int warmup, int total) {
    LearningRateSchedule {
        if (!(peak >= 0) || warmup < 0 || total < 1) {
            throw new IllegalArgumentException("invalid schedule: lr " + peak + ", warm-up " + warmup + ", total "
                    + total);
        }
    }

    double rate(int step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        int decaySteps = Math.max(1, total - warmup);
        return peak * Math.max(0.0, (double) (total - step) / decaySteps);
    }
}
