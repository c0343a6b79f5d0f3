package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;

/** A tensor uses a GGML type (or a shape) that Buddy's kernels cannot compute with. */
public final class UnsupportedTensorTypeException extends RuntimeException {
    private final String tensorName;
    private final GgmlType type;

    public UnsupportedTensorTypeException(String tensorName, GgmlType type) {
        this(tensorName, type, "tensor '" + tensorName + "' has type " + type
                + ", which Buddy cannot compute with (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,"
                + " Q4_K, Q5_K, Q6_K)");
    }

    public UnsupportedTensorTypeException(String tensorName, GgmlType type, String message) {
        super(message);
        this.tensorName = tensorName;
        this.type = type;
    }

    public String tensorName() {
        return tensorName;
    }

    public GgmlType type() {
        return type;
    }
}
