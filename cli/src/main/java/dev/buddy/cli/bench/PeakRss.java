package dev.buddy.cli.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's peak resident set size, {@code VmHWM} in {@code /proc/self/status} (Linux): everything the process
 * ever had in RAM at once, including the JVM itself and the mapped model pages it touched.
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

    /** The VmHWM line of a /proc/PID/status text ("VmHWM:	  123456 kB"), in bytes; -1 when absent. */
    static long parse(String status) {
        for (String line : status.split("\n")) {
            if (line.startsWith("VmHWM:")) {
                String[] parts = line.substring("VmHWM:".length()).strip().split("\\s+");
                return Long.parseLong(parts[0]) * 1024;
            }
        }
        return -1;
    }
}
