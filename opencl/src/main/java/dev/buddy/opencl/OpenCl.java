package dev.buddy.opencl;

import java.util.List;

/** Whether OpenCL can be used on this machine, decided once per JVM without ever throwing. */
public final class OpenCl {
    private OpenCl() {}

    /**
     * The answer to "can Buddy use OpenCL here?".
     *
     * @param available true when the library loaded and at least one device with a compiler exists
     * @param reason    one line: the chosen default device when available, else what is missing
     */
    public record Availability(boolean available, String reason) {}

    private static final class Holder {
        static final Availability AVAILABILITY = probe();
    }

    public static Availability availability() {
        return Holder.AVAILABILITY;
    }

    /** Throws {@link OpenClUnavailableException} with the reason unless OpenCL is available. */
    public static void require() {
        Availability a = availability();
        if (!a.available()) {
            throw new OpenClUnavailableException(a.reason());
        }
    }

    private static Availability probe() {
        try {
            var failure = ClApi.loadFailure();
            if (failure.isPresent()) {
                return new Availability(false, failure.get());
            }
            List<ClDevice> devices = OpenClDevices.list();
            if (devices.isEmpty()) {
                return new Availability(false, "no OpenCL platform or device found");
            }
            ClDevice chosen = OpenClDevices.select(null);
            return new Availability(true, "default device " + chosen);
        } catch (OpenClUnavailableException e) {
            return new Availability(false, e.getMessage().replaceFirst("^OpenCL is not available: ", ""));
        } catch (RuntimeException | LinkageError e) {
            return new Availability(false, "probing OpenCL failed: " + e);
        }
    }
}
