package dev.buddy.opencl;

import java.lang.foreign.MemorySegment;

/** A device buffer ({@code cl_mem}) of a fixed number of bytes. */
public final class ClBuffer extends ClResource {
    private final long byteSize;

    ClBuffer(ClContext context, MemorySegment handle, long byteSize) {
        super(context, handle);
        this.byteSize = byteSize;
    }

    public long byteSize() {
        return byteSize;
    }

    @Override
    int releaseNative() {
        return ClApi.release(ClApi.RELEASE_MEM_OBJECT, handle);
    }

    @Override
    String describe() {
        return "buffer of " + byteSize + " bytes";
    }
}
