package dev.buddy.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.buddy.gguf.TestData;

/** Availability never throws; without a library it is one clear line; with devices, the listing describes them. */
class AvailabilityTest {

    @Test
    void withoutALibraryOpenClIsDisabledWithOneLineAndNoCrash() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-Dbuddy.opencl.library=/nonexistent/libOpenCL.so.1", "-cp", System.getProperty("java.class.path"),
                UnavailableProbe.class.getName()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        List<String> lines = out.lines().toList();
        assertEquals("available=false", lines.get(0), out);
        assertTrue(lines.get(1).startsWith("reason=no OpenCL library found (tried /nonexistent/libOpenCL.so.1)"), out);
        assertEquals(3, lines.size(), "describe() must be one line when unavailable: " + out);
        assertTrue(lines.get(2).startsWith("OpenCL: not available ("), out);
    }

    @Test
    void availabilityIsDecidedOnceAndAlwaysHasAReason() {
        OpenCl.Availability a = OpenCl.availability();
        assertSame(a, OpenCl.availability());
        assertFalse(a.reason().isBlank());
        if (!a.available()) {
            assertThrows(OpenClUnavailableException.class, OpenCl::require);
            assertFalse(TestData.inCi(), "OpenCL must be available in CI: " + a.reason());
        }
    }

    @Test
    void theListingDescribesEveryDeviceAndStarsTheDefault() {
        OpenCl.Availability a = OpenCl.availability();
        if (!a.available()) {
            assertFalse(TestData.inCi(), "OpenCL must be available in CI: " + a.reason());
            org.junit.jupiter.api.Assumptions.abort("OpenCL unavailable: " + a.reason());
        }
        List<ClDevice> devices = OpenClDevices.list();
        assertFalse(devices.isEmpty());
        String text = OpenClDevices.describe();
        ClDevice chosen = OpenClDevices.select(null);
        for (ClDevice d : devices) {
            assertTrue(d.globalMemBytes() > 0 && d.computeUnits() > 0 && d.maxWorkGroupSize() > 0, d.toString());
            String marker = d.id().equals(chosen.id()) ? "* " : "  ";
            assertTrue(text.contains(marker + d.id() + "  " + d.name() + "  " + d.type()), text);
            assertTrue(text.contains(d.computeUnits() + " compute units"), text);
        }
        assertEquals(chosen.id(), OpenClDevices.select(chosen.id()).id());
        OpenClUnavailableException e = assertThrows(OpenClUnavailableException.class,
                () -> OpenClDevices.select("no-such-device-name"));
        assertTrue(e.getMessage().contains("no OpenCL device matches 'no-such-device-name'"), e.getMessage());
    }
}
