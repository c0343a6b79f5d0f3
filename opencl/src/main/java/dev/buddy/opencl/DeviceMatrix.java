package dev.buddy.opencl;

import dev.buddy.gguf.GgmlType;

/**
 * A weight matrix on the device in its GGUF block layout, unchanged: {@code rows} rows of {@code cols} elements, each
 * row {@code rowBytes} bytes. Closing it frees the device buffer.
 */
public final class DeviceMatrix implements AutoCloseable {
    private final String name;
    private final GgmlType type;
    private final int rows;
    private final int cols;
    private final long rowBytes;
    private final ClBuffer buffer;

    DeviceMatrix(String name, GgmlType type, int rows, int cols, ClBuffer buffer) {
        this.name = name;
        this.type = type;
        this.rows = rows;
        this.cols = cols;
        this.rowBytes = type.byteSize(cols);
        this.buffer = buffer;
    }

    public String name() {
        return name;
    }

    public GgmlType type() {
        return type;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public long rowBytes() {
        return rowBytes;
    }

    public ClBuffer buffer() {
        return buffer;
    }

    @Override
    public void close() {
        buffer.close();
    }

    @Override
    public String toString() {
        return name + " " + type + " [" + rows + " x " + cols + "]";
    }
}
