package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;

import dev.buddy.gguf.GgmlType;
import net.jqwik.api.Example;
import net.jqwik.api.lifecycle.AddLifecycleHook;

/** Failures surface as typed exceptions that name the OpenCL call, the status and, for builds, the compiler log. */
@AddLifecycleHook(RequiresOpenCl.class)
class ErrorReportingTest {

    @Example
    void aBrokenProgramReportsTheBuildLog() {
        OpenClBuildException e = assertThrows(OpenClBuildException.class,
                () -> Device.context().build("broken", "__kernel void k(__global float* x) { x[0] = undefined_name; }",
                        ""));
        assertEquals("CL_BUILD_PROGRAM_FAILURE", e.statusName());
        assertTrue(e.buildLog().contains("undefined_name"), e.buildLog());
        assertTrue(e.getMessage().startsWith("clBuildProgram failed: CL_BUILD_PROGRAM_FAILURE (-11) building broken"),
                e.getMessage());
    }

    @Example
    void anUnknownKernelNameIsNamed() {
        try (ClProgram p = Device.context().build("one", "__kernel void present(__global float* x) { x[0] = 1; }", "")) {
            OpenClException e = assertThrows(OpenClException.class, () -> p.kernel("absent"));
            assertEquals("clCreateKernel", e.call());
            assertEquals("CL_INVALID_KERNEL_NAME", e.statusName());
            assertTrue(e.getMessage().contains("absent"), e.getMessage());
        }
    }

    /** Checked before the driver sees it: NVIDIA's driver (580, on an H200) accepts a buffer over its own limit. */
    @Example
    void aBufferOverTheDevicesLimitFailsAsTheSpecSays() {
        ClContext ctx = Device.context();
        long tooBig = ctx.device().maxAllocBytes() + 1;
        OpenClException e = assertThrows(OpenClException.class, () -> ctx.allocate(tooBig));
        assertEquals("clCreateBuffer", e.call());
        assertEquals("CL_INVALID_BUFFER_SIZE", e.statusName());
        assertTrue(e.getMessage().contains("allocating " + tooBig + " bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("largest buffer allowed: " + ctx.device().maxAllocBytes()), e.getMessage());
    }

    @Example
    void aTransferOutsideTheBufferIsRejectedBeforeTheDriverSeesIt() {
        try (ClBuffer b = Device.context().allocate(16)) {
            assertThrows(IndexOutOfBoundsException.class, () -> Device.context().read(b, 8, new float[3], 0, 3));
        }
    }

    @Example
    void weightTypesWithoutKernelsAreRejectedByName() {
        OpenClUnsupportedTypeException e = assertThrows(OpenClUnsupportedTypeException.class,
                () -> Device.kernels().upload("blk.0.ffn_up.weight", GgmlType.Q5_K, new long[] {256, 2},
                        MemorySegment.ofArray(new byte[2 * 176])));
        assertTrue(e.getMessage().startsWith("tensor blk.0.ffn_up.weight has type Q5_K"), e.getMessage());
    }

    @Example
    void aWeightWhoseSizeDisagreesWithItsShapeIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Device.kernels().upload("w", GgmlType.Q8_0, new long[] {64, 3},
                        MemorySegment.ofArray(new byte[3 * 68 - 1])));
        assertTrue(e.getMessage().contains("expected 204"), e.getMessage());
    }
}
