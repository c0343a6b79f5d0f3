package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** A profiling queue times every launch per kernel; a plain one refuses to report. */
@AddLifecycleHook(RequiresOpenCl.class)
class KernelProfileTest {
    private static final String PROGRAM = """
            __kernel void twice(__global float* x, int n) {
                int i = get_global_id(0);
                if (i < n) x[i] *= 2.0f;
            }
            __kernel void plus_one(__global float* x, int n) {
                int i = get_global_id(0);
                if (i < n) x[i] += 1.0f;
            }
            """;

    @Example
    void everyLaunchIsCountedUnderItsKernelAndResetStartsAfresh() {
        Device.requireAvailable();
        try (ClContext ctx = ClContext.create(OpenClDevices.select(null), true); ClProgram p = ctx.build("profile",
                PROGRAM, ""); ClKernel twice = p.kernel("twice"); ClKernel plusOne = p.kernel("plus_one");
                ClBuffer x = ctx.upload(new float[] {1, 2, 3})) {
            assertTrue(ctx.profiling());
            twice.arg(0, x).arg(1, 3);
            plusOne.arg(0, x).arg(1, 3);
            for (int i = 0; i < 5; i++) {
                ctx.run(twice, 64, 0);
            }
            ctx.run(plusOne, 64, 0);
            float[] got = new float[3];
            ctx.read(x, 0, got, 0, 3); // a blocking read drains the events; the kernels still ran
            assertEquals(1 * 32 + 1, got[0]);
            ctx.run(plusOne, 64, 0);

            KernelProfile profile = ctx.kernelProfile();
            List<String> names = profile.kernels().stream().map(KernelProfile.Kernel::name).sorted().toList();
            assertEquals(List.of("plus_one", "twice"), names);
            assertEquals(5, launches(profile, "twice"));
            assertEquals(2, launches(profile, "plus_one"));
            assertEquals(7, profile.totalLaunches());
            assertTrue(profile.kernels().stream().allMatch(k -> k.nanos() >= 0), profile.toString());
            assertTrue(profile.kernels().get(0).nanos() >= profile.kernels().get(1).nanos(), "most time first");

            ctx.resetKernelProfile();
            ctx.run(twice, 64, 0);
            assertEquals(List.of(new KernelProfile.Kernel("twice", 1, ctx.kernelProfile().totalNanos())),
                    ctx.kernelProfile().kernels());
        }
    }

    @Example
    void aPlainContextHasNoProfile() {
        ClContext ctx = Device.context();
        assertFalse(ctx.profiling());
        IllegalStateException e = assertThrows(IllegalStateException.class, ctx::kernelProfile);
        assertTrue(e.getMessage().contains("without profiling"), e.getMessage());
    }

    private static long launches(KernelProfile profile, String kernel) {
        return profile.kernels().stream().filter(k -> k.name().equals(kernel)).mapToLong(KernelProfile.Kernel::launches)
                .sum();
    }
}
