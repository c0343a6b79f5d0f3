package dev.buddy.opencl;

import dev.buddy.gguf.GgmlType;

/** A tensor's GGML type has no OpenCL kernel; the message names the tensor, its type and the types that do. */
public final class OpenClUnsupportedTypeException extends RuntimeException {
    public OpenClUnsupportedTypeException(String tensor, GgmlType type) {
        super("tensor " + tensor + " has type " + type + ", which the OpenCL backend cannot compute with (supported: "
                + OpenClKernels.WEIGHT_TYPES + ")");
    }
}
