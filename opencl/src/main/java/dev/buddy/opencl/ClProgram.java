package dev.buddy.opencl;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A program built for the context's device; kernels are created from it by name. */
public final class ClProgram extends ClResource {
    private final String name;

    ClProgram(ClContext context, MemorySegment handle, String name) {
        super(context, handle);
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** Creates the kernel {@code kernelName}; the context closes it if the caller does not. */
    public ClKernel kernel(String kernelName) {
        MemorySegment kernel;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = arena.allocate(JAVA_INT);
            try {
                kernel = (MemorySegment) ClApi.CREATE_KERNEL.invokeExact(handle(), arena.allocateFrom(kernelName), err);
            } catch (Throwable t) {
                throw ClApi.rethrow(t);
            }
            ClApi.check("clCreateKernel", err.get(JAVA_INT, 0), "for kernel " + kernelName + " of " + name);
        }
        return context.register(new ClKernel(context, kernel, kernelName));
    }

    @Override
    int releaseNative() {
        return ClApi.release(ClApi.RELEASE_PROGRAM, handle);
    }

    @Override
    String describe() {
        return "program " + name;
    }
}
