package dev.buddy.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects a profiling queue's kernel events: each launch leaves an event, and once the queue has drained (after a
 * blocking read or a finish) their start and end times are added to the kernel's total and the events released, so
 * a long run holds only one pass's events at a time. Only a context created with profiling has one; it allocates
 * per launch, which is why profiling is opt-in.
 */
final class KernelTimer {
    private static final int PROFILING_COMMAND_START = 0x1282;
    private static final int PROFILING_COMMAND_END = 0x1283;

    private final MemorySegment eventSlot;
    private final MemorySegment timeSlot;
    private final List<MemorySegment> pendingEvents = new ArrayList<>();
    private final List<String> pendingNames = new ArrayList<>();
    private final Map<String, long[]> totals = new HashMap<>();

    KernelTimer(Arena arena) {
        this.eventSlot = arena.allocate(ADDRESS);
        this.timeSlot = arena.allocate(JAVA_LONG);
    }

    /** Where clEnqueueNDRangeKernel writes the launch's event. */
    MemorySegment eventSlot() {
        return eventSlot;
    }

    /** Records the event just written to {@link #eventSlot()} for a launch of {@code kernel}. */
    void launched(String kernel) {
        pendingEvents.add(eventSlot.get(ADDRESS, 0));
        pendingNames.add(kernel);
    }

    /** Adds every pending launch's device time to its kernel and releases the events; the queue must be drained. */
    void drain() {
        for (int i = 0; i < pendingEvents.size(); i++) {
            MemorySegment event = pendingEvents.get(i);
            long nanos = time(event, PROFILING_COMMAND_END) - time(event, PROFILING_COMMAND_START);
            long[] t = totals.computeIfAbsent(pendingNames.get(i), k -> new long[2]);
            t[0]++;
            t[1] += nanos;
            ClApi.release(ClApi.RELEASE_EVENT, event);
        }
        pendingEvents.clear();
        pendingNames.clear();
    }

    /** Releases pending events without timing them (the context is closing). */
    void discard() {
        for (MemorySegment event : pendingEvents) {
            ClApi.release(ClApi.RELEASE_EVENT, event);
        }
        pendingEvents.clear();
        pendingNames.clear();
    }

    KernelProfile snapshot() {
        List<KernelProfile.Kernel> kernels = new ArrayList<>();
        totals.forEach((name, t) -> kernels.add(new KernelProfile.Kernel(name, t[0], t[1])));
        kernels.sort(Comparator.comparingLong(KernelProfile.Kernel::nanos).reversed()
                .thenComparing(KernelProfile.Kernel::name));
        return new KernelProfile(kernels);
    }

    void reset() {
        totals.clear();
    }

    private long time(MemorySegment event, int what) {
        int status;
        try {
            status = (int) ClApi.GET_EVENT_PROFILING_INFO.invokeExact(event, what, 8L, timeSlot, MemorySegment.NULL);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
        ClApi.check("clGetEventProfilingInfo", status);
        return timeSlot.get(JAVA_LONG, 0);
    }
}
