package dev.buddy.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Enumerates OpenCL platforms and devices, picks one, and renders the listing {@code buddy devices} prints. */
public final class OpenClDevices {
    private OpenClDevices() {}

    /**
     * Every device of every platform, in driver order. Empty when the ICD loader finds no platform.
     *
     * @throws OpenClUnavailableException when no OpenCL library can be loaded
     */
    public static List<ClDevice> list() {
        ClApi.loadFailure().ifPresent(reason -> {
            throw new OpenClUnavailableException(reason);
        });
        List<ClDevice> devices = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] platforms = platforms(arena);
            for (int p = 0; p < platforms.length; p++) {
                String platformName = ClInfo.platformString(platforms[p], ClApi.PLATFORM_NAME);
                String platformVersion = ClInfo.platformString(platforms[p], ClApi.PLATFORM_VERSION);
                MemorySegment[] ids = devices(arena, platforms[p]);
                for (int d = 0; d < ids.length; d++) {
                    devices.add(new ClDevice(platforms[p], ids[d], p, d, platformName, platformVersion));
                }
            }
        }
        return List.copyOf(devices);
    }

    /**
     * The device named by {@code spec}: {@code null}, empty or "auto" for the default (the GPU with the most global
     * memory, else the first usable device), a number N for the N-th device of {@link #list()} (0-based, the order
     * {@code buddy devices} prints), {@code P:D} for platform P's device D, or else a case-insensitive substring of
     * the device name.
     *
     * @throws OpenClUnavailableException when OpenCL is missing or nothing matches (the message lists the devices)
     */
    public static ClDevice select(String spec) {
        List<ClDevice> all = list();
        List<ClDevice> usable = all.stream().filter(ClDevice::usable).toList();
        if (usable.isEmpty()) {
            throw new OpenClUnavailableException(all.isEmpty() ? "no OpenCL platform or device found"
                    : "no OpenCL device is available with a compiler (" + all.size() + " listed)");
        }
        if (spec == null || spec.isBlank() || spec.equalsIgnoreCase("auto")) {
            return usable.stream().filter(ClDevice::isGpu)
                    .max((a, b) -> Long.compare(a.globalMemBytes(), b.globalMemBytes()))
                    .orElse(usable.getFirst());
        }
        if (spec.strip().matches("\\d{1,9}")) {
            int index = Integer.parseInt(spec.strip());
            if (index >= all.size()) {
                throw new OpenClUnavailableException("there is no OpenCL device " + index + " (" + all.size()
                        + " listed: " + String.join("; ", all.stream().map(ClDevice::toString).toList()) + ")");
            }
            ClDevice d = all.get(index);
            if (!d.usable()) {
                throw new OpenClUnavailableException("OpenCL device " + index + " (" + d + ") is not available");
            }
            return d;
        }
        for (ClDevice d : usable) {
            if (d.id().equals(spec.strip())) {
                return d;
            }
        }
        String needle = spec.strip().toLowerCase(Locale.ROOT);
        for (ClDevice d : usable) {
            if (d.name().toLowerCase(Locale.ROOT).contains(needle)) {
                return d;
            }
        }
        throw new OpenClUnavailableException("no OpenCL device matches '" + spec + "'; devices: "
                + String.join("; ", usable.stream().map(ClDevice::toString).toList()));
    }

    /**
     * The text {@code buddy devices} prints: one line per platform and one per device with its id, type, memory,
     * compute units and work-group limit; the default device is starred. When OpenCL is missing, one line says why.
     */
    public static String describe() {
        List<ClDevice> all;
        try {
            all = list();
        } catch (OpenClUnavailableException | OpenClException e) {
            return "OpenCL: not available (" + e.getMessage() + ")\n";
        }
        if (all.isEmpty()) {
            return "OpenCL: no platform found (the ICD loader is installed but no driver is registered)\n";
        }
        String defaultId;
        try {
            defaultId = select(null).id();
        } catch (OpenClUnavailableException e) {
            defaultId = "";
        }
        StringBuilder out = new StringBuilder();
        int platform = -1;
        for (ClDevice d : all) {
            if (d.platformIndex() != platform) {
                platform = d.platformIndex();
                out.append("OpenCL platform ").append(platform).append(": ").append(d.platformName())
                        .append(" (").append(d.platformVersion()).append(")\n");
            }
            out.append(d.id().equals(defaultId) ? "* " : "  ").append(d.id()).append("  ").append(d.name())
                    .append("  ").append(d.type())
                    .append(String.format(Locale.ROOT, "  %s global, %s local, %s max buffer, %d compute units,"
                            + " work-group <= %d, %s%s",
                            bytes(d.globalMemBytes()), bytes(d.localMemBytes()), bytes(d.maxAllocBytes()),
                            d.computeUnits(), d.maxWorkGroupSize(), d.version(),
                            d.usable() ? "" : " (unavailable)"))
                    .append('\n');
        }
        return out.toString();
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GiB", n / (double) (1L << 30));
        }
        if (n >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (double) (1L << 20));
        }
        if (n >= 1L << 10) {
            return String.format(Locale.ROOT, "%.0f KiB", n / 1024.0);
        }
        return n + " B";
    }

    private static MemorySegment[] platforms(Arena arena) {
        MemorySegment count = arena.allocate(JAVA_INT);
        int status = call3(0, MemorySegment.NULL, count);
        if (status == ClStatus.PLATFORM_NOT_FOUND_KHR) {
            return new MemorySegment[0];
        }
        ClApi.check("clGetPlatformIDs", status);
        int n = count.get(JAVA_INT, 0);
        if (n == 0) {
            return new MemorySegment[0];
        }
        MemorySegment ids = arena.allocate(ADDRESS, n);
        ClApi.check("clGetPlatformIDs", call3(n, ids, MemorySegment.NULL));
        MemorySegment[] out = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            out[i] = ids.getAtIndex(ADDRESS, i);
        }
        return out;
    }

    private static int call3(int n, MemorySegment ids, MemorySegment count) {
        try {
            return (int) ClApi.GET_PLATFORM_IDS.invokeExact(n, ids, count);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
    }

    private static MemorySegment[] devices(Arena arena, MemorySegment platform) {
        MemorySegment count = arena.allocate(JAVA_INT);
        int status = deviceIds(platform, 0, MemorySegment.NULL, count);
        if (status == -1) { // CL_DEVICE_NOT_FOUND: a platform with no device is not an error
            return new MemorySegment[0];
        }
        ClApi.check("clGetDeviceIDs", status);
        int n = count.get(JAVA_INT, 0);
        MemorySegment ids = arena.allocate(ADDRESS, Math.max(1, n));
        ClApi.check("clGetDeviceIDs", deviceIds(platform, n, ids, MemorySegment.NULL));
        MemorySegment[] out = new MemorySegment[n];
        for (int i = 0; i < n; i++) {
            out[i] = ids.getAtIndex(ADDRESS, i);
        }
        return out;
    }

    private static int deviceIds(MemorySegment platform, int n, MemorySegment ids, MemorySegment count) {
        try {
            return (int) ClApi.GET_DEVICE_IDS.invokeExact(platform, ClApi.DEVICE_TYPE_ALL, n, ids, count);
        } catch (Throwable t) {
            throw ClApi.rethrow(t);
        }
    }
}
