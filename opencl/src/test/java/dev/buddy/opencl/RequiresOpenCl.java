package dev.buddy.opencl;

import dev.buddy.gguf.TestData;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/**
 * Skips a test container with OpenCL's one-line reason when no OpenCL device is usable on a developer's machine. Under
 * {@code CI=true} nothing is skipped: the tests run and fail with that reason, so CI cannot pass without a device.
 */
public final class RequiresOpenCl implements SkipExecutionHook {
    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
        OpenCl.Availability a = OpenCl.availability();
        if (a.available() || TestData.inCi()) {
            return SkipResult.doNotSkip();
        }
        return SkipResult.skip("OpenCL unavailable: " + a.reason());
    }
}
