package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Status names follow cl.h; needs no device. */
class StatusNamesTest {
    @Test
    void knownCodesAreNamedAndUnknownOnesKeepTheirNumber() {
        assertEquals("CL_SUCCESS", ClStatus.name(0));
        assertEquals("CL_OUT_OF_RESOURCES", ClStatus.name(-5));
        assertEquals("CL_INVALID_WORK_GROUP_SIZE", ClStatus.name(-54));
        assertEquals("CL_PLATFORM_NOT_FOUND_KHR", ClStatus.name(-1001));
        assertEquals("CL_UNKNOWN_ERROR(-9999)", ClStatus.name(-9999));
        OpenClException e = new OpenClException("clFinish", -36, null);
        assertEquals("clFinish failed: CL_INVALID_COMMAND_QUEUE (-36)", e.getMessage());
    }
}
