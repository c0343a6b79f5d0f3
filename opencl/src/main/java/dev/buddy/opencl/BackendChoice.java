package dev.buddy.opencl;

import java.util.Locale;

/**
 * The {@code --device} option: {@code cpu} (the Vector API backend), or {@code opencl} with an optional device after a
 * colon: {@code opencl} takes the default device, {@code opencl:N} the N-th device {@code buddy devices} lists
 * (0-based), {@code opencl:P:D} platform P's device D, anything else a part of the device name.
 *
 * @param openCl     true for the OpenCL backend
 * @param deviceSpec what {@link OpenClDevices#select} gets ("auto" for the default); null for the CPU
 */
public record BackendChoice(boolean openCl, String deviceSpec) {
    public static final BackendChoice CPU = new BackendChoice(false, null);

    /**
     * @throws IllegalArgumentException with a one-line message when {@code text} names neither backend
     */
    public static BackendChoice parse(String text) {
        String t = text == null ? "" : text.strip();
        String lower = t.toLowerCase(Locale.ROOT);
        if (lower.equals("cpu")) {
            return CPU;
        }
        if (lower.equals("opencl")) {
            return new BackendChoice(true, "auto");
        }
        if (lower.startsWith("opencl:") && t.length() > "opencl:".length()) {
            return new BackendChoice(true, t.substring("opencl:".length()).strip());
        }
        throw new IllegalArgumentException("invalid --device '" + text + "': expected cpu, opencl, opencl:N (see"
                + " 'buddy devices'), opencl:P:D or opencl:NAME");
    }

    /**
     * The OpenCL device this choice names.
     *
     * @throws OpenClUnavailableException when OpenCL is missing or no device matches
     */
    public ClDevice select() {
        if (!openCl) {
            throw new IllegalStateException("the CPU backend has no OpenCL device");
        }
        return OpenClDevices.select(deviceSpec);
    }

    @Override
    public String toString() {
        return openCl ? (deviceSpec.equals("auto") ? "opencl" : "opencl:" + deviceSpec) : "cpu";
    }
}
