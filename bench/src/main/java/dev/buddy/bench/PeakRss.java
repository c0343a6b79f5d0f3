package dev.buddy.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's peak resident set size, {@code VmHWM} in {@code /proc/self/status} (Linux): all it ever had in RAM
 * at once, the JVM and every mapped model page it touched included.
 */
final class PeakRss {
    private PeakRss() {}

    /** Peak RSS in bytes, or -1 where /proc is unavailable. */
    static long bytes() {
        try {
            return parse(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException | UnsupportedOperationException e) {
            return -1;
        }
    }

    /** The VmHWM line of a /proc/PID/status text ("VmHWM:	  123456 kB") in bytes; -1 when absent. */
    static long parse(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.substring("VmHWM:".length()).strip().split("\\s+")[0]) * 1024;
            }
        }
        return -1;
    }
}
