package dev.buddy.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.buddy.opencl.KernelProfile;

/** The profile table: shares of the device time, the busy share of the wall time, and the tail summed on one line. */
class KernelProfileReportTest {

    @Test
    void sharesAddUpAndKernelsPastTheListAreSummed() {
        List<KernelProfile.Kernel> kernels = new ArrayList<>();
        long total = 0;
        int count = KernelProfileReport.LISTED + 3;
        for (int i = 0; i < count; i++) {
            long nanos = (count - i) * 1_000_000L; // 15 ms, 14 ms, ... 1 ms
            kernels.add(new KernelProfile.Kernel("k" + i, i + 1, nanos));
            total += nanos;
        }
        long wall = 4 * total;
        String text = KernelProfileReport.render("tg8", new KernelProfile(kernels), wall);
        List<String> lines = text.lines().toList();
        assertEquals(2 + KernelProfileReport.LISTED + 1, lines.size(), text);
        assertTrue(lines.get(0).startsWith(String.format(java.util.Locale.ROOT,
                "profile tg8: device busy %.1f ms of %.1f ms wall (25.0%%); 120 launches", total / 1e6, wall / 1e6)),
                lines.get(0));
        double shares = 0;
        long launches = 0;
        for (String line : lines.subList(2, lines.size())) {
            String[] f = line.strip().split("\\s+(?=[0-9,.]+%?(\\s|$))");
            launches += Long.parseLong(f[1].replace(",", ""));
            shares += Double.parseDouble(f[3].replace("%", ""));
        }
        assertEquals(120, launches, text);
        assertEquals(100.0, shares, 0.35, text); // each share rounded to 0.1
        String tail = lines.getLast().strip();
        assertTrue(tail.startsWith("(3 more)"), tail);
        // the last three kernels: 3 + 2 + 1 ms over 13 + 14 + 15 launches
        assertTrue(tail.matches("\\(3 more\\)\\s+42\\s+6\\.00\\s+.*"), tail);
    }

    @Test
    void anEmptyProfileReadsZeroWithoutDividingByIt() {
        String text = KernelProfileReport.render("pp8", new KernelProfile(List.of()), 0);
        assertTrue(text.startsWith("profile pp8: device busy 0.0 ms of 0.0 ms wall (0.0%); 0 launches, 0.0 us"), text);
        assertEquals(2, text.lines().count(), text);
    }
}
