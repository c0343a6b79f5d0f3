package dev.buddy.engine.tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The SIMD register width the weight kernels are compiled for. Every format has straight-line kernels per width
 * (the Vector API only runs fast when the species is a compile-time constant, so one kernel parameterised by a species
 * object would fall off the intrinsics; measured at ~50x slower), plus the scalar reference path. At
 * {@link #W512}, on a CPU with 512-bit vectors ({@link #native512()}), the row groups of Q4_0, Q4_1, Q8_0 and Q6_K
 * (sixteen rows; eight for Q4_0 and Q4_1 matrices of 8k but not 16k rows) and Q4_K (eight) and Q8_0's single-row
 * kernel have 512-bit code; every other kernel runs its 256-bit form there (512-bit K-quant row kernels were measured
 * and withdrawn: BENCHMARKS.md, "Session 13").
 *
 * <p>{@link #preferred()} is what {@link WeightMatrix#of} uses: the system property {@value #PROPERTY}
 * (128, 256, 512 or 0 for scalar) when set, else the hardware's preferred vector shape. Tests construct matrices for
 * each of {@link #available()} in one JVM.
 */
public enum VectorWidth {
    SCALAR(0),
    W128(128),
    W256(256),
    W512(512);

    /** System property that forces the width: 128, 256, 512, or 0 for the scalar path. */
    public static final String PROPERTY = "buddy.vector.bits";

    private final int bits;

    VectorWidth(int bits) {
        this.bits = bits;
    }

    /** Register width in bits; 0 for the scalar path. */
    public int bits() {
        return bits;
    }

    /** The width for {@code bits} (0, 128, 256 or 512). */
    public static VectorWidth fromBits(int bits) {
        for (VectorWidth w : values()) {
            if (w.bits == bits) {
                return w;
            }
        }
        throw new IllegalArgumentException("vector width must be 0, 128, 256 or 512 bits, got " + bits);
    }

    /** The width chosen for this JVM: {@value #PROPERTY} if set, else {@link #hardware()}. */
    public static VectorWidth preferred() {
        return Preferred.WIDTH;
    }

    /**
     * The widest width the CPU runs natively (the Vector API's preferred shape, capped at 512), or {@link #SCALAR}
     * when the {@code jdk.incubator.vector} module is not in the boot layer.
     */
    public static VectorWidth hardware() {
        return Hardware.WIDTH;
    }

    /**
     * Whether kernels written for 512-bit registers should run at this width: {@link #W512} on a CPU that has them.
     * A width forced above the hardware's (tests, {@value #PROPERTY}) keeps the 256-bit kernels, which were all that
     * {@code W512} ran before session 13: 512-bit vectors on a 256-bit CPU run in the Vector API's Java fallback.
     */
    public boolean native512() {
        return this == W512 && hardware() == W512;
    }

    /** The scalar path and every SIMD width up to {@link #hardware()}: what tests can exercise on this machine. */
    public static List<VectorWidth> available() {
        List<VectorWidth> widths = new ArrayList<>();
        for (VectorWidth w : values()) {
            if (w.bits <= hardware().bits && (w == SCALAR || w.bits >= 128)) {
                widths.add(w);
            }
        }
        return List.copyOf(widths);
    }

    private static final class Preferred {
        static final VectorWidth WIDTH = choose();

        private static VectorWidth choose() {
            String forced = System.getProperty(PROPERTY);
            if (forced == null || forced.isBlank()) {
                return hardware();
            }
            int bits;
            try {
                bits = Integer.parseInt(forced.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(PROPERTY + " must be 0, 128, 256 or 512, got '" + forced + "'");
            }
            VectorWidth width = fromBits(bits);
            if (width != SCALAR && !Hardware.MODULE_PRESENT) {
                throw new IllegalStateException(PROPERTY + "=" + bits
                        + " needs the jdk.incubator.vector module: run java with --add-modules jdk.incubator.vector");
            }
            return width;
        }
    }

    private static final class Hardware {
        static final boolean MODULE_PRESENT = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        static final VectorWidth WIDTH = MODULE_PRESENT ? Probe.width() : SCALAR;
    }

    /** Touches jdk.incubator.vector only once the module is known to be present. */
    private static final class Probe {
        static VectorWidth width() {
            int bits = jdk.incubator.vector.VectorShape.preferredShape().vectorBitSize();
            if (bits >= 512) {
                return W512;
            }
            if (bits >= 256) {
                return W256;
            }
            return bits >= 128 ? W128 : SCALAR;
        }
    }
}
