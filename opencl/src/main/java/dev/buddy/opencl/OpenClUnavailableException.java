package dev.buddy.opencl;

/** OpenCL was asked for but this machine has no usable OpenCL library or device; the message says which. */
public final class OpenClUnavailableException extends RuntimeException {
    public OpenClUnavailableException(String reason) {
        super("OpenCL is not available: " + reason);
    }
}
