package dev.buddy.opencl;

/**
 * How many output rows one work-group of the single-token kernels with quantised input ({@code matvec_q_*} in
 * input.cl) computes: the group's work-items are split into that many slices, one per row, each striding the row's
 * weight units and reducing in its own slice of local memory. One row per group gives a 2,048-column Q4_0 row's 64
 * units to a whole group (256 work-items on a GPU, most of them idle; 64 on PoCL's CPU device, which runs a group on
 * one thread and so loops over idle work-items). On PoCL, 16 rows per group decode the SmolLM2-135M shape about 3x
 * faster (BENCHMARKS.md, "OpenCL backend on PoCL"), so CPU devices default to 16; GPUs keep 1, the layout the
 * H200's figures were measured with, until a GPU measures another. To try one: {@code
 * BUDDY_JAVA_OPTS=-Dbuddy.opencl.decode.rows=4 ./buddy bench --device opencl --profile ...}.
 *
 * @param perGroup rows per work-group, a power of two from 1 to 64
 */
public record DecodeRows(int perGroup) {
    /** What GPUs use unless told otherwise. */
    public static final DecodeRows DEFAULT = new DecodeRows(1);
    /** What CPU devices use unless told otherwise. */
    public static final DecodeRows CPU_DEVICE = new DecodeRows(16);
    private static final String PROPERTY = "buddy.opencl.decode.rows";

    public DecodeRows {
        if (perGroup < 1 || perGroup > 64 || Integer.bitCount(perGroup) != 1) {
            throw new IllegalArgumentException("decode rows per work-group must be a power of two from 1 to 64, got "
                    + perGroup);
        }
    }

    /** The count {@code buddy.opencl.decode.rows} names, else {@link #DEFAULT} on a GPU and {@link #CPU_DEVICE}. */
    static DecodeRows forDevice(ClDevice device) {
        if (System.getProperty(PROPERTY) == null) {
            return device.isGpu() ? DEFAULT : CPU_DEVICE;
        }
        int asked = TuningException.intProperty(PROPERTY, DEFAULT.perGroup);
        return TuningException.checked("-D" + PROPERTY, () -> new DecodeRows(asked));
    }
}
