package dev.buddy.opencl;

/**
 * An OpenCL call returned an error status. The message names the call and the status, e.g.
 * {@code clCreateBuffer failed: CL_MEM_OBJECT_ALLOCATION_FAILURE (-4) allocating 8589934592 bytes}.
 */
public class OpenClException extends RuntimeException {
    private final String call;
    private final int status;

    public OpenClException(String call, int status, String detail) {
        super(call + " failed: " + ClStatus.name(status) + " (" + status + ")"
                + (detail == null || detail.isEmpty() ? "" : " " + detail));
        this.call = call;
        this.status = status;
    }

    /** The OpenCL function that failed, e.g. {@code clEnqueueNDRangeKernel}. */
    public String call() {
        return call;
    }

    /** The raw status code. */
    public int status() {
        return status;
    }

    /** The status's symbolic name, e.g. {@code CL_OUT_OF_RESOURCES}. */
    public String statusName() {
        return ClStatus.name(status);
    }
}
