package dev.buddy.gguf;

import java.util.Arrays;

/**
 * One tensor's header entry. {@code dims[0]} is ne0, the contiguous (row) dimension; {@code dims[1]} the row count.
 * {@code offset} is relative to the start of the file's aligned data region.
 */
public record TensorInfo(String name, GgmlType type, long[] dims, long offset, long byteSize) {
    public TensorInfo {
        dims = dims.clone();
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    public int rank() {
        return dims.length;
    }

    public long dim(int i) {
        return i < dims.length ? dims[i] : 1;
    }

    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n *= d; // validated not to overflow when read
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && t.name.equals(name) && t.type == type && Arrays.equals(t.dims, dims)
                && t.offset == offset && t.byteSize == byteSize;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}
