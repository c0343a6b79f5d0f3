package dev.buddy.opencl;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.buddy.gguf.TestData;

/**
 * One context and one kernel build per test JVM on the default device: building the kernels takes PoCL seconds, and
 * every property shares them. Released by the JVM at exit.
 */
final class Device {
    private Device() {}

    private static final class Holder {
        static final ClContext CONTEXT = ClContext.createDefault();
        static final OpenClKernels KERNELS = OpenClKernels.build(CONTEXT);
    }

    static ClContext context() {
        requireAvailable();
        return Holder.CONTEXT;
    }

    static OpenClKernels kernels() {
        requireAvailable();
        return Holder.KERNELS;
    }

    private record Shapes(PrefillTile tile, DecodeRows rows) {}

    private static final Map<Shapes, OpenClKernels> OTHER_SHAPES = new ConcurrentHashMap<>();

    /** The kernels built with another prefill tile (and the device's decode rows), once per shape. */
    static OpenClKernels kernels(PrefillTile tile) {
        return kernels(tile, DecodeRows.forDevice(context().device()));
    }

    /** The kernels built with other shapes for the quantised-input products, once per pair. */
    static OpenClKernels kernels(PrefillTile tile, DecodeRows rows) {
        OpenClKernels k = kernels();
        return tile.equals(PrefillTile.fromSystemProperties()) && rows.equals(DecodeRows.forDevice(context().device()))
                ? k
                : OTHER_SHAPES.computeIfAbsent(new Shapes(tile, rows),
                        s -> OpenClKernels.build(Holder.CONTEXT, s.tile(), s.rows()));
    }

    static void requireAvailable() {
        OpenCl.Availability a = OpenCl.availability();
        if (!a.available()) {
            throw new AssertionError("OpenCL unavailable" + (TestData.inCi() ? " in CI" : "") + ": " + a.reason());
        }
    }
}
