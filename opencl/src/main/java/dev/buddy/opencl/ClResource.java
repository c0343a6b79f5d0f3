package dev.buddy.opencl;

import java.lang.foreign.MemorySegment;

/**
 * A native OpenCL object owned by a {@link ClContext}: released exactly once, by its own {@link #close()} or by the
 * context's, whichever comes first.
 */
abstract sealed class ClResource implements AutoCloseable permits ClBuffer, ClProgram, ClKernel {
    final ClContext context;
    final MemorySegment handle;
    private boolean released;

    ClResource(ClContext context, MemorySegment handle) {
        this.context = context;
        this.handle = handle;
    }

    /** Calls the matching {@code clRelease*}; returns its status. */
    abstract int releaseNative();

    abstract String describe();

    final boolean isReleased() {
        return released;
    }

    final MemorySegment handle() {
        if (released) {
            throw new IllegalStateException(describe() + " was already closed");
        }
        return handle;
    }

    /** Releases the native object; a second call does nothing. */
    @Override
    public final void close() {
        if (!released) {
            released = true;
            context.forget(this);
            ClApi.check(getClass().getSimpleName() + " release", releaseNative(), describe());
        }
    }

    /** Called by the context as it closes: release without unregistering (the context clears its list itself). */
    final int releaseFromContext() {
        if (released) {
            return ClStatus.SUCCESS;
        }
        released = true;
        return releaseNative();
    }
}
