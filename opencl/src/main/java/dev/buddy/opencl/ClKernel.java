package dev.buddy.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A kernel with its arguments. Setting an argument goes through the context's preallocated native scratch, so the
 * per-token path allocates nothing; like its context, a kernel is used by one thread at a time.
 */
public final class ClKernel extends ClResource {
    private final String name;
    private final long maxWorkGroupSize;

    ClKernel(ClContext context, MemorySegment handle, String name) {
        super(context, handle);
        this.name = name;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(JAVA_LONG);
            int status;
            try {
                status = (int) ClApi.GET_KERNEL_WORK_GROUP_INFO.invokeExact(handle, context.device().handle(),
                        ClApi.KERNEL_WORK_GROUP_SIZE, JAVA_LONG.byteSize(), v, MemorySegment.NULL);
            } catch (Throwable t) {
                throw ClApi.rethrow(t);
            }
            ClApi.check("clGetKernelWorkGroupInfo", status, "for kernel " + name);
            this.maxWorkGroupSize = v.get(JAVA_LONG, 0);
        }
    }

    public String name() {
        return name;
    }

    /** The largest work-group this kernel can be launched with on the device ({@code CL_KERNEL_WORK_GROUP_SIZE}). */
    public long maxWorkGroupSize() {
        return maxWorkGroupSize;
    }

    public ClKernel arg(int index, ClBuffer buffer) {
        MemorySegment s = context.argScratch();
        s.set(ADDRESS, 0, buffer.handle());
        return set(index, ADDRESS.byteSize(), s);
    }

    public ClKernel arg(int index, int value) {
        MemorySegment s = context.argScratch();
        s.set(JAVA_INT, 0, value);
        return set(index, JAVA_INT.byteSize(), s);
    }

    public ClKernel arg(int index, float value) {
        MemorySegment s = context.argScratch();
        s.set(JAVA_FLOAT, 0, value);
        return set(index, JAVA_FLOAT.byteSize(), s);
    }

    /** A {@code long} (64-bit) argument, also used for {@code ulong} and {@code size_t}-sized offsets. */
    public ClKernel arg(int index, long value) {
        MemorySegment s = context.argScratch();
        s.set(JAVA_LONG, 0, value);
        return set(index, JAVA_LONG.byteSize(), s);
    }

    /** A {@code __local} array argument of {@code bytes} bytes. */
    public ClKernel argLocal(int index, long bytes) {
        return set(index, bytes, MemorySegment.NULL);
    }

    private ClKernel set(int index, long size, MemorySegment value) {
        int status;
        try {
            status = (int) ClApi.SET_KERNEL_ARG.invokeExact(handle(), index, size, value);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
        if (status != ClStatus.SUCCESS) {
            throw new OpenClException("clSetKernelArg", status, "for argument " + index + " of kernel " + name);
        }
        return this;
    }

    @Override
    int releaseNative() {
        return ClApi.release(ClApi.RELEASE_KERNEL, handle);
    }

    @Override
    String describe() {
        return "kernel " + name;
    }
}
