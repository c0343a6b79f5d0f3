package dev.buddy.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * An OpenCL context with one in-order command queue on one device, and the owner of every buffer, program and kernel
 * made through it: {@link #close()} releases whatever its children did not release themselves, then the queue and the
 * context. Used by one thread at a time (the argument and launch scratch is shared).
 */
public final class ClContext implements AutoCloseable {
    private static final long SCRATCH_ARG = 0;
    private static final long SCRATCH_GLOBAL = 16;
    private static final long SCRATCH_LOCAL = 48;
    private static final long SCRATCH_SMALL = 80;
    private static final long SCRATCH_BYTES = 128;

    private final ClDevice device;
    private final Arena arena;
    private final MemorySegment context;
    private final MemorySegment queue;
    private final MemorySegment scratch;
    // Fixed views of the scratch, made once: slicing per call would allocate on every kernel launch.
    private final MemorySegment argSlot;
    private final MemorySegment smallSlot;
    private final MemorySegment[] globalSizes;
    private final MemorySegment[] localSizes;
    private Arena stagingArena;
    private MemorySegment staging = MemorySegment.NULL;
    private final Set<ClResource> live = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Device time per kernel when the queue profiles, else null. */
    private final KernelTimer timer;
    /** Where a launch writes its event: the timer's slot, or NULL for none. */
    private final MemorySegment launchEvent;
    private boolean closed;

    private ClContext(ClDevice device, Arena arena, MemorySegment context, MemorySegment queue, boolean profiling) {
        this.device = device;
        this.arena = arena;
        this.context = context;
        this.queue = queue;
        this.timer = profiling ? new KernelTimer(arena) : null;
        this.launchEvent = profiling ? timer.eventSlot() : MemorySegment.NULL;
        this.scratch = arena.allocate(SCRATCH_BYTES, 16);
        this.argSlot = scratch.asSlice(SCRATCH_ARG, 8);
        this.smallSlot = scratch.asSlice(SCRATCH_SMALL, 4);
        this.globalSizes = new MemorySegment[] {scratch.asSlice(SCRATCH_GLOBAL, 8), scratch.asSlice(SCRATCH_GLOBAL, 16)};
        this.localSizes = new MemorySegment[] {scratch.asSlice(SCRATCH_LOCAL, 8), scratch.asSlice(SCRATCH_LOCAL, 16)};
    }

    /** Creates a context and an in-order queue on {@code device}. */
    public static ClContext create(ClDevice device) {
        return create(device, false);
    }

    /**
     * Creates a context and an in-order queue on {@code device}; with {@code profiling}, the queue times every kernel
     * launch ({@link #kernelProfile()}), at the cost of an event per launch.
     */
    public static ClContext create(ClDevice device, boolean profiling) {
        OpenCl.require();
        Arena arena = Arena.ofShared();
        MemorySegment context = MemorySegment.NULL;
        try {
            MemorySegment err = arena.allocate(JAVA_INT);
            MemorySegment props = arena.allocate(ADDRESS, 3);
            props.setAtIndex(JAVA_LONG, 0, ClApi.CONTEXT_PLATFORM);
            props.setAtIndex(ADDRESS, 1, device.platformHandle());
            props.setAtIndex(JAVA_LONG, 2, 0L);
            MemorySegment devices = arena.allocate(ADDRESS);
            devices.set(ADDRESS, 0, device.handle());
            context = (MemorySegment) ClApi.CREATE_CONTEXT.invokeExact(props, 1, devices, MemorySegment.NULL,
                    MemorySegment.NULL, err);
            ClApi.check("clCreateContext", err.get(JAVA_INT, 0), "on " + device);
            MemorySegment queue;
            // clCreateCommandQueue is deprecated from OpenCL 2.0 on; a 1.x platform has only the old entry point.
            if (device.platformMajorVersion() >= 2 && ClApi.CREATE_COMMAND_QUEUE_WITH_PROPERTIES != null) {
                MemorySegment queueProps = MemorySegment.NULL;
                if (profiling) {
                    queueProps = arena.allocate(JAVA_LONG, 3);
                    queueProps.setAtIndex(JAVA_LONG, 0, ClApi.QUEUE_PROPERTIES);
                    queueProps.setAtIndex(JAVA_LONG, 1, ClApi.QUEUE_PROFILING_ENABLE);
                    queueProps.setAtIndex(JAVA_LONG, 2, 0L);
                }
                queue = (MemorySegment) ClApi.CREATE_COMMAND_QUEUE_WITH_PROPERTIES.invokeExact(context,
                        device.handle(), queueProps, err);
                ClApi.check("clCreateCommandQueueWithProperties", err.get(JAVA_INT, 0), "on " + device);
            } else {
                queue = (MemorySegment) ClApi.CREATE_COMMAND_QUEUE.invokeExact(context, device.handle(),
                        profiling ? ClApi.QUEUE_PROFILING_ENABLE : 0L, err);
                ClApi.check("clCreateCommandQueue", err.get(JAVA_INT, 0), "on " + device);
            }
            return new ClContext(device, arena, context, queue, profiling);
        } catch (Throwable t) {
            if (!context.equals(MemorySegment.NULL)) {
                ClApi.release(ClApi.RELEASE_CONTEXT, context);
            }
            arena.close();
            throw ClApi.rethrow(t);
        }
    }

    /** A context on the default device ({@link OpenClDevices#select(String)} with "auto"). */
    public static ClContext createDefault() {
        OpenCl.require();
        return create(OpenClDevices.select(null));
    }

    public ClDevice device() {
        return device;
    }

    /** An uninitialised read-write buffer. */
    public ClBuffer allocate(long bytes) {
        return createBuffer(ClApi.MEM_READ_WRITE, bytes, MemorySegment.NULL);
    }

    /**
     * A read-only buffer holding a copy of {@code data}, e.g. a tensor sliced from the GGUF mapping: its bytes go to
     * the device unchanged.
     */
    public ClBuffer upload(MemorySegment data) {
        if (data.isNative()) {
            return createBuffer(ClApi.MEM_READ_ONLY | ClApi.MEM_COPY_HOST_PTR, data.byteSize(), data);
        }
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment copy = tmp.allocate(data.byteSize(), 16);
            copy.copyFrom(data);
            return createBuffer(ClApi.MEM_READ_ONLY | ClApi.MEM_COPY_HOST_PTR, copy.byteSize(), copy);
        }
    }

    /** A read-write buffer initialised with {@code values}. */
    public ClBuffer upload(float[] values) {
        ClBuffer b = allocate(Math.max(4, (long) values.length * 4));
        write(b, 0, values, 0, values.length);
        return b;
    }

    /** A read-write buffer of {@code bytes} bytes, all zero. */
    public ClBuffer allocateZeroed(long bytes) {
        ClBuffer b = allocate(bytes);
        fillZero(b, 0, bytes);
        return b;
    }

    private ClBuffer createBuffer(long flags, long bytes, MemorySegment host) {
        checkOpen();
        if (bytes <= 0) {
            throw new IllegalArgumentException("buffer size must be positive, got " + bytes);
        }
        String detail = "allocating " + bytes + " bytes on " + device.name() + " (largest buffer allowed: "
                + device.maxAllocBytes() + ")";
        if (bytes > device.maxAllocBytes()) {
            // The spec makes clCreateBuffer fail with CL_INVALID_BUFFER_SIZE here, but NVIDIA's driver (580, H200)
            // returns a buffer of 35 GiB + 1 byte without complaint: checking here gives every driver the same answer.
            throw new OpenClException("clCreateBuffer", ClStatus.INVALID_BUFFER_SIZE, detail);
        }
        MemorySegment err = smallSlot;
        MemorySegment mem;
        try {
            mem = (MemorySegment) ClApi.CREATE_BUFFER.invokeExact(context, flags, bytes, host, err);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
        ClApi.check("clCreateBuffer", err.get(JAVA_INT, 0), detail);
        return register(new ClBuffer(this, mem, bytes));
    }

    /**
     * Compiles {@code source} for this device with {@code options}.
     *
     * @throws OpenClBuildException with the compiler's log when the build fails
     */
    public ClProgram build(String programName, String source, String options) {
        checkOpen();
        MemorySegment program;
        try (Arena tmp = Arena.ofConfined()) {
            byte[] bytes = source.getBytes(StandardCharsets.UTF_8);
            MemorySegment text = tmp.allocate(bytes.length + 1L);
            MemorySegment.copy(bytes, 0, text, JAVA_BYTE, 0, bytes.length);
            MemorySegment strings = tmp.allocate(ADDRESS);
            strings.set(ADDRESS, 0, text);
            MemorySegment lengths = tmp.allocate(JAVA_LONG);
            lengths.set(JAVA_LONG, 0, bytes.length);
            MemorySegment err = tmp.allocate(JAVA_INT);
            program = (MemorySegment) ClApi.CREATE_PROGRAM_WITH_SOURCE.invokeExact(context, 1, strings, lengths, err);
            ClApi.check("clCreateProgramWithSource", err.get(JAVA_INT, 0), "for " + programName);
            ClProgram result = register(new ClProgram(this, program, programName));
            MemorySegment devices = tmp.allocate(ADDRESS);
            devices.set(ADDRESS, 0, device.handle());
            int status = (int) ClApi.BUILD_PROGRAM.invokeExact(program, 1, devices,
                    tmp.allocateFrom(options == null ? "" : options), MemorySegment.NULL, MemorySegment.NULL);
            if (status != ClStatus.SUCCESS) {
                String log = buildLog(tmp, program);
                result.close();
                throw new OpenClBuildException(status, programName, log);
            }
            return result;
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
    }

    private String buildLog(Arena tmp, MemorySegment program) throws Throwable {
        MemorySegment size = tmp.allocate(JAVA_LONG);
        int status = (int) ClApi.GET_PROGRAM_BUILD_INFO.invokeExact(program, device.handle(), ClApi.PROGRAM_BUILD_LOG,
                0L, MemorySegment.NULL, size);
        if (status != ClStatus.SUCCESS || size.get(JAVA_LONG, 0) <= 1) {
            return "(no build log: " + ClStatus.name(status) + ")";
        }
        MemorySegment log = tmp.allocate(size.get(JAVA_LONG, 0));
        status = (int) ClApi.GET_PROGRAM_BUILD_INFO.invokeExact(program, device.handle(), ClApi.PROGRAM_BUILD_LOG,
                log.byteSize(), log, MemorySegment.NULL);
        return status == ClStatus.SUCCESS ? ClInfo.cString(log) : "(no build log: " + ClStatus.name(status) + ")";
    }

    /*
     * Host transfers are blocking and go through native memory: Java arrays are copied to or from a staging segment
     * that grows on demand and is then reused, so the per-token path (token ids in, logits out) allocates nothing.
     */

    /** Copies {@code count} floats from {@code src[from..]} to {@code dst} at byte offset {@code dstOffset}. */
    public void write(ClBuffer dst, long dstOffset, float[] src, int from, int count) {
        MemorySegment stage = staging(4L * count);
        MemorySegment.copy(src, from, stage, JAVA_FLOAT, 0, count);
        transfer(ClApi.ENQUEUE_WRITE_BUFFER, "clEnqueueWriteBuffer", dst, dstOffset, stage, 4L * count);
    }

    /** Copies {@code count} ints from {@code src[from..]} to {@code dst} at byte offset {@code dstOffset}. */
    public void write(ClBuffer dst, long dstOffset, int[] src, int from, int count) {
        MemorySegment stage = staging(4L * count);
        MemorySegment.copy(src, from, stage, JAVA_INT, 0, count);
        transfer(ClApi.ENQUEUE_WRITE_BUFFER, "clEnqueueWriteBuffer", dst, dstOffset, stage, 4L * count);
    }

    /** Copies {@code data} (native or heap) to {@code dst} at byte offset {@code dstOffset}. */
    public void write(ClBuffer dst, long dstOffset, MemorySegment data) {
        MemorySegment host = data;
        if (!data.isNative()) {
            host = staging(data.byteSize());
            MemorySegment.copy(data, 0, host, 0, data.byteSize());
        }
        transfer(ClApi.ENQUEUE_WRITE_BUFFER, "clEnqueueWriteBuffer", dst, dstOffset, host, data.byteSize());
    }

    /** Writes one int (a token id, a position). */
    public void writeInt(ClBuffer dst, long dstOffset, int value) {
        smallSlot.set(JAVA_INT, 0, value);
        transfer(ClApi.ENQUEUE_WRITE_BUFFER, "clEnqueueWriteBuffer", dst, dstOffset, smallSlot, 4);
    }

    /** Waits for the queue, then copies {@code count} floats at byte offset {@code srcOffset} into {@code dst[from..]}. */
    public void read(ClBuffer src, long srcOffset, float[] dst, int from, int count) {
        finish();
        MemorySegment stage = staging(4L * count);
        transfer(ClApi.ENQUEUE_READ_BUFFER, "clEnqueueReadBuffer", src, srcOffset, stage, 4L * count);
        MemorySegment.copy(stage, JAVA_FLOAT, 0, dst, from, count);
    }

    /**
     * Waits for the queue, then reads {@code count} IEEE halves at byte offset {@code srcOffset} into {@code dst[from..]}
     * as floats (an F16 KV row for the router).
     */
    public void readHalves(ClBuffer src, long srcOffset, float[] dst, int from, int count) {
        finish();
        MemorySegment stage = staging(2L * count);
        transfer(ClApi.ENQUEUE_READ_BUFFER, "clEnqueueReadBuffer", src, srcOffset, stage, 2L * count);
        for (int i = 0; i < count; i++) {
            dst[from + i] = Float.float16ToFloat(stage.getAtIndex(JAVA_SHORT, i));
        }
    }

    /** Waits for the queue, then copies bytes at {@code srcOffset} into {@code dst} (native or heap). */
    public void read(ClBuffer src, long srcOffset, MemorySegment dst) {
        finish();
        if (dst.isNative()) {
            transfer(ClApi.ENQUEUE_READ_BUFFER, "clEnqueueReadBuffer", src, srcOffset, dst, dst.byteSize());
        } else {
            MemorySegment stage = staging(dst.byteSize());
            transfer(ClApi.ENQUEUE_READ_BUFFER, "clEnqueueReadBuffer", src, srcOffset, stage, dst.byteSize());
            MemorySegment.copy(stage, 0, dst, 0, dst.byteSize());
        }
    }

    /** Waits for the queue and reads one int (e.g. an on-device argmax). */
    public int readInt(ClBuffer src, long srcOffset) {
        finish();
        transfer(ClApi.ENQUEUE_READ_BUFFER, "clEnqueueReadBuffer", src, srcOffset, smallSlot, 4);
        return smallSlot.get(JAVA_INT, 0);
    }

    private MemorySegment staging(long bytes) {
        checkOpen();
        if (staging.byteSize() < bytes) {
            if (stagingArena != null) {
                stagingArena.close();
            }
            stagingArena = Arena.ofShared();
            staging = stagingArena.allocate(Math.max(bytes, 4096), 64);
        }
        return staging;
    }

    private void transfer(java.lang.invoke.MethodHandle handle, String call, ClBuffer buffer, long offset,
            MemorySegment host, long bytes) {
        checkOpen();
        if (offset < 0 || offset + bytes > buffer.byteSize()) {
            throw new IndexOutOfBoundsException(call + ": bytes [" + offset + ", " + (offset + bytes)
                    + ") outside a " + buffer.byteSize() + "-byte buffer");
        }
        int status;
        try {
            status = (int) handle.invokeExact(queue, buffer.handle(), ClApi.TRUE, offset, bytes, host, 0,
                    MemorySegment.NULL, MemorySegment.NULL);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
        ClApi.check(call, status);
        if (timer != null) { // a blocking transfer on an in-order queue: every launch before it has completed
            timer.drain();
        }
    }

    /** Enqueues a device-side copy. */
    public void copy(ClBuffer src, long srcOffset, ClBuffer dst, long dstOffset, long bytes) {
        checkOpen();
        int status;
        try {
            status = (int) ClApi.ENQUEUE_COPY_BUFFER.invokeExact(queue, src.handle(), dst.handle(), srcOffset,
                    dstOffset, bytes, 0, MemorySegment.NULL, MemorySegment.NULL);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
        ClApi.check("clEnqueueCopyBuffer", status);
    }

    /** Enqueues zeroing {@code bytes} bytes (a multiple of 4) at {@code offset}. */
    public void fillZero(ClBuffer buffer, long offset, long bytes) {
        fill(buffer, offset, bytes, 0);
    }

    /** Enqueues setting every int in {@code bytes} bytes (a multiple of 4) at {@code offset} to {@code value}. */
    public void fill(ClBuffer buffer, long offset, long bytes, int value) {
        checkOpen();
        MemorySegment pattern = smallSlot;
        pattern.set(JAVA_INT, 0, value);
        int status;
        try {
            status = (int) ClApi.ENQUEUE_FILL_BUFFER.invokeExact(queue, buffer.handle(), pattern, 4L, offset, bytes,
                    0, MemorySegment.NULL, MemorySegment.NULL);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
        ClApi.check("clEnqueueFillBuffer", status);
    }

    /**
     * Enqueues a 1-D launch of {@code globalSize} work-items in groups of {@code localSize} (which divides it), or of
     * the driver's choosing when {@code localSize} is 0.
     */
    public void run(ClKernel kernel, long globalSize, long localSize) {
        scratch.set(JAVA_LONG, SCRATCH_GLOBAL, globalSize);
        scratch.set(JAVA_LONG, SCRATCH_LOCAL, localSize);
        enqueue(kernel, 1);
    }

    /** Enqueues a 2-D launch; local sizes of 0 let the driver choose. */
    public void run(ClKernel kernel, long global0, long global1, long local0, long local1) {
        scratch.set(JAVA_LONG, SCRATCH_GLOBAL, global0);
        scratch.set(JAVA_LONG, SCRATCH_GLOBAL + 8, global1);
        scratch.set(JAVA_LONG, SCRATCH_LOCAL, local0);
        scratch.set(JAVA_LONG, SCRATCH_LOCAL + 8, local1);
        enqueue(kernel, 2);
    }

    private void enqueue(ClKernel kernel, int dims) {
        checkOpen();
        int status;
        try {
            // A zero local size lets the driver choose the work-group shape.
            MemorySegment local = scratch.get(JAVA_LONG, SCRATCH_LOCAL) == 0 ? MemorySegment.NULL
                    : localSizes[dims - 1];
            status = (int) ClApi.ENQUEUE_ND_RANGE_KERNEL.invokeExact(queue, kernel.handle(), dims, MemorySegment.NULL,
                    globalSizes[dims - 1], local, 0, MemorySegment.NULL, launchEvent);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
        if (status != ClStatus.SUCCESS) {
            throw new OpenClException("clEnqueueNDRangeKernel", status, "for kernel " + kernel.name() + " (global "
                    + scratch.get(JAVA_LONG, SCRATCH_GLOBAL) + ", local " + scratch.get(JAVA_LONG, SCRATCH_LOCAL) + ")");
        }
        if (timer != null) {
            timer.launched(kernel.name());
        }
    }

    /** Blocks until every enqueued command has completed. */
    public void finish() {
        checkOpen();
        int status;
        try {
            status = (int) ClApi.FINISH.invokeExact(queue);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
        ClApi.check("clFinish", status);
        if (timer != null) {
            timer.drain();
        }
    }

    /** Whether this context's queue times kernel launches ({@link #create(ClDevice, boolean)}). */
    public boolean profiling() {
        return timer != null;
    }

    /**
     * Device time per kernel since the context was made or {@link #resetKernelProfile()} last ran; waits for the
     * queue first.
     *
     * @throws IllegalStateException when the context was created without profiling
     */
    public KernelProfile kernelProfile() {
        requireProfiling();
        finish();
        return timer.snapshot();
    }

    /** Starts the kernel profile afresh; launches still in flight count towards the new one. */
    public void resetKernelProfile() {
        requireProfiling();
        timer.reset();
    }

    private void requireProfiling() {
        if (timer == null) {
            throw new IllegalStateException("this OpenCL context was created without profiling");
        }
    }

    /** Number of buffers, programs and kernels made here and not yet closed. */
    public int liveResources() {
        return live.size();
    }

    MemorySegment argScratch() {
        checkOpen();
        return argSlot;
    }

    <T extends ClResource> T register(T resource) {
        live.add(resource);
        return resource;
    }

    void forget(ClResource resource) {
        live.remove(resource);
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("OpenCL context on " + device.name() + " is closed");
        }
    }

    /**
     * Waits for outstanding work, releases kernels before programs before buffers, then the queue and the context.
     * The first failing release is reported after everything else has been released.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        OpenClException first = null;
        try {
            finish();
        } catch (OpenClException e) {
            first = e;
        }
        if (timer != null) { // events of launches the failed finish did not drain
            timer.discard();
        }
        closed = true;
        List<ClResource> order = new ArrayList<>(live);
        live.clear();
        order.sort((a, b) -> Integer.compare(rank(a), rank(b)));
        for (ClResource r : order) {
            int status = r.releaseFromContext();
            if (status != ClStatus.SUCCESS && first == null) {
                first = new OpenClException("release", status, r.describe());
            }
        }
        int status = ClApi.release(ClApi.RELEASE_COMMAND_QUEUE, queue);
        if (status != ClStatus.SUCCESS && first == null) {
            first = new OpenClException("clReleaseCommandQueue", status, null);
        }
        status = ClApi.release(ClApi.RELEASE_CONTEXT, context);
        if (status != ClStatus.SUCCESS && first == null) {
            first = new OpenClException("clReleaseContext", status, null);
        }
        arena.close();
        if (stagingArena != null) {
            stagingArena.close();
        }
        if (first != null) {
            throw first;
        }
    }

    private static int rank(ClResource r) {
        return switch (r) {
            case ClKernel k -> 0;
            case ClProgram p -> 1;
            case ClBuffer b -> 2;
        };
    }
}
