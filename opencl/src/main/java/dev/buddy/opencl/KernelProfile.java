package dev.buddy.opencl;

import java.util.List;

/**
 * Device time per kernel, from the queue's profiling events (CL_PROFILING_COMMAND_START to _END of every launch):
 * what the device spent running each kernel, without the gaps between launches. Comparing {@link #totalNanos()} with
 * the wall time of the same passes shows how much of it the launches themselves cost.
 *
 * @param kernels one entry per kernel name, most device time first
 */
public record KernelProfile(List<Kernel> kernels) {
    public KernelProfile {
        kernels = List.copyOf(kernels);
    }

    /**
     * @param name     the kernel's name in the .cl source, e.g. {@code matvec_q_Q4_0}
     * @param launches how many times it ran
     * @param nanos    its device time in all
     */
    public record Kernel(String name, long launches, long nanos) {}

    /** Device time of every launch together. */
    public long totalNanos() {
        return kernels.stream().mapToLong(Kernel::nanos).sum();
    }

    /** Launches of every kernel together. */
    public long totalLaunches() {
        return kernels.stream().mapToLong(Kernel::launches).sum();
    }
}
