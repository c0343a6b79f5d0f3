package dev.buddy.engine.synth;

import java.util.Arrays;

import dev.buddy.gguf.GgmlType;

/**
 * One tensor of a synthetic model: name, role, block (-1 for global tensors), GGML type and GGUF dims (dims[0] is the
 * contiguous row length ne0).
 */
public record PlannedTensor(String name, TensorRole role, int layer, GgmlType type, long[] dims) {
    public PlannedTensor {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    /** Elements per row (ne0). */
    public int rowLength() {
        return (int) dims[0];
    }

    /** Rows (the product of the other dims; 1 for a vector). */
    public int rowCount() {
        long rows = 1;
        for (int i = 1; i < dims.length; i++) {
            rows *= dims[i];
        }
        return Math.toIntExact(rows);
    }

    public long elementCount() {
        return (long) rowLength() * rowCount();
    }

    public long byteSize() {
        return type.byteSize(elementCount());
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
