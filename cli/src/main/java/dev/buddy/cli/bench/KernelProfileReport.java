package dev.buddy.cli.bench;

import java.util.List;
import java.util.Locale;

import dev.buddy.opencl.KernelProfile;

/** The text `buddy bench --profile` prints after each test: device time per kernel against the test's wall time. */
final class KernelProfileReport {
    /** Kernels listed one per line; the rest are summed on one line. */
    static final int LISTED = 12;

    private KernelProfileReport() {}

    /**
     * @param test      the test's name, e.g. {@code tg128}
     * @param profile   device time per kernel over the test's timed runs
     * @param wallNanos the wall time of those runs
     */
    static String render(String test, KernelProfile profile, long wallNanos) {
        long device = profile.totalNanos();
        long launches = profile.totalLaunches();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT,
                "profile %s: device busy %.1f ms of %.1f ms wall (%.1f%%); %,d launches, %.1f us of device time each%n",
                test, device / 1e6, wallNanos / 1e6, percent(device, wallNanos), launches,
                launches == 0 ? 0.0 : device / 1e3 / launches));
        out.append(String.format(Locale.ROOT, "  %-24s %10s %11s %7s %10s%n", "kernel", "launches", "device ms",
                "share", "mean us"));
        List<KernelProfile.Kernel> kernels = profile.kernels();
        for (int i = 0; i < Math.min(LISTED, kernels.size()); i++) {
            KernelProfile.Kernel k = kernels.get(i);
            out.append(row(k.name(), k.launches(), k.nanos(), device));
        }
        if (kernels.size() > LISTED) {
            List<KernelProfile.Kernel> rest = kernels.subList(LISTED, kernels.size());
            out.append(row("(" + rest.size() + " more)", rest.stream().mapToLong(KernelProfile.Kernel::launches).sum(),
                    rest.stream().mapToLong(KernelProfile.Kernel::nanos).sum(), device));
        }
        return out.toString();
    }

    private static String row(String name, long launches, long nanos, long device) {
        return String.format(Locale.ROOT, "  %-24s %,10d %11.2f %6.1f%% %10.2f%n", name, launches, nanos / 1e6,
                percent(nanos, device), launches == 0 ? 0.0 : nanos / 1e3 / launches);
    }

    private static double percent(long part, long whole) {
        return whole == 0 ? 0 : 100.0 * part / whole;
    }
}
