package dev.buddy.opencl;

/**
 * Device scratch holding activations converted to an {@link InputFormat} for up to {@code maxElements} values (tokens
 * × columns). Convert once with {@link OpenClKernels#prepareInput}, then feed every matrix that reads the same
 * activations (Q, K and V; gate and up). Allocated once; nothing is allocated per token.
 */
public final class DeviceInput implements AutoCloseable {
    final int maxElements;
    final ClBuffer quants;
    final ClBuffer scales;
    final ClBuffer sums;
    final ClBuffer blockSums;
    final ClBuffer halves;
    InputFormat format;
    ClBuffer source;
    int sourceOffset;
    int tokens;
    int cols;

    DeviceInput(ClContext context, int maxElements) {
        if (maxElements <= 0) {
            throw new IllegalArgumentException("input capacity must be positive, got " + maxElements);
        }
        this.maxElements = maxElements;
        this.quants = context.allocate(maxElements);
        this.scales = context.allocate(4L * Math.max(1, maxElements / 32));
        this.sums = context.allocate(4L * Math.max(1, maxElements / 32));
        this.blockSums = context.allocate(4L * Math.max(1, maxElements / 16));
        this.halves = context.allocate(4L * maxElements);
    }

    public int maxElements() {
        return maxElements;
    }

    /** The format of the last conversion, or null before the first. */
    public InputFormat format() {
        return format;
    }

    public int tokens() {
        return tokens;
    }

    public int cols() {
        return cols;
    }

    @Override
    public void close() {
        quants.close();
        scales.close();
        sums.close();
        blockSums.close();
        halves.close();
    }
}
