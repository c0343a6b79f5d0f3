package dev.buddy.opencl;

import java.util.Locale;

import dev.buddy.engine.generate.ForwardBackend;
import dev.buddy.engine.model.LayerPlanner;
import dev.buddy.engine.model.ModelSpec;
import dev.buddy.gguf.GgufFile;

/**
 * The OpenCL forward pass as a {@link ForwardBackend}: one context on one device, the kernels built for it and the
 * model uploaded once, all owned here and released on {@link #close()}. The generator's sampler then sees the device's
 * logits exactly as it sees the CPU's; routing goes through the same {@link LayerPlanner}, which reads block 0's value
 * row of the new token from the device and decides on the host which blocks get enqueued.
 */
public final class OpenClBackend implements ForwardBackend {
    private final ClContext context;
    private final OpenClKernels kernels;
    private final OpenClTransformer model;
    private final float[] logits;
    private final long uploadNanos;

    private OpenClBackend(ClContext context, OpenClKernels kernels, OpenClTransformer model, long uploadNanos) {
        this.context = context;
        this.kernels = kernels;
        this.model = model;
        this.logits = new float[model.vocabSize()];
        this.uploadNanos = uploadNanos;
    }

    /**
     * Opens {@code device}, builds the kernels and uploads the model in {@code gguf} (described by {@code spec}).
     *
     * @throws OpenClUnavailableException when OpenCL is missing
     * @throws OpenClUnsupportedTypeException when a weight's type has no OpenCL kernel
     * @throws OpenClBuildException when the device's compiler rejects the kernels (with its log)
     * @throws OpenClException when the device runs out of memory or fails otherwise
     */
    public static OpenClBackend open(ClDevice device, GgufFile gguf, ModelSpec spec, OpenClModelOptions options) {
        return open(device, gguf, spec, options, false);
    }

    /**
     * {@link #open(ClDevice, GgufFile, ModelSpec, OpenClModelOptions)}, with {@code profiling} timing every kernel
     * launch on the device ({@link #kernelProfile()}).
     */
    public static OpenClBackend open(ClDevice device, GgufFile gguf, ModelSpec spec, OpenClModelOptions options,
            boolean profiling) {
        ClContext context = ClContext.create(device, profiling);
        OpenClKernels kernels = null;
        try {
            kernels = OpenClKernels.build(context);
            long start = System.nanoTime();
            OpenClTransformer model = OpenClTransformer.load(kernels, gguf, spec, options);
            context.finish();
            return new OpenClBackend(context, kernels, model, System.nanoTime() - start);
        } catch (RuntimeException | Error e) {
            if (kernels != null) {
                kernels.close();
            }
            context.close();
            throw e;
        }
    }

    public ClDevice device() {
        return context.device();
    }

    /**
     * Device time per kernel since the upload or the last {@link #resetKernelProfile()}.
     *
     * @throws IllegalStateException unless the backend was opened with profiling
     */
    public KernelProfile kernelProfile() {
        return context.kernelProfile();
    }

    /** Starts {@link #kernelProfile()} afresh. */
    public void resetKernelProfile() {
        context.resetKernelProfile();
    }

    public OpenClTransformer model() {
        return model;
    }

    @Override
    public int contextLength() {
        return model.options().contextLength();
    }

    @Override
    public void reset() {
        model.reset();
    }

    @Override
    public float[] forward(int[] tokens, int offset, int count, int startPosition, LayerPlanner planner) {
        model.forward(tokens, offset, count, startPosition, planner, logits);
        return logits;
    }

    /** As {@link #forward}, but only the greedy token id comes back from the device (no logits read). */
    public int forwardGreedy(int[] tokens, int offset, int count, int startPosition, LayerPlanner planner) {
        return model.forwardGreedy(tokens, offset, count, startPosition, planner);
    }

    /** One line for stderr: the device, what was uploaded and how long the upload took. */
    public String describe() {
        return String.format(Locale.ROOT, "OpenCL device %s: %s of weights uploaded in %.2f s, %s %s KV cache",
                device(), OpenClDevices.bytes(model.weightBytes()), uploadNanos / 1e9,
                OpenClDevices.bytes(model.kvCacheBytes()), model.options().kvType().name().toLowerCase(Locale.ROOT));
    }

    @Override
    public void close() {
        try {
            model.close();
            kernels.close();
        } finally {
            context.close();
        }
    }
}
