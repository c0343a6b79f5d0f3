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

    private static final Map<PrefillTile, OpenClKernels> OTHER_TILES = new ConcurrentHashMap<>();

    /** The kernels built with another prefill tile, once per shape. */
    static OpenClKernels kernels(PrefillTile tile) {
        OpenClKernels k = kernels();
        return tile.equals(PrefillTile.DEFAULT) ? k
                : OTHER_TILES.computeIfAbsent(tile, t -> OpenClKernels.build(Holder.CONTEXT, t));
    }

    static void requireAvailable() {
        OpenCl.Availability a = OpenCl.availability();
        if (!a.available()) {
            throw new AssertionError("OpenCL unavailable" + (TestData.inCi() ? " in CI" : "") + ": " + a.reason());
        }
    }
}
