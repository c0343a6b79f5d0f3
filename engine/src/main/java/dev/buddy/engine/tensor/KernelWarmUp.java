package dev.buddy.engine.tensor;

import dev.buddy.gguf.GgmlType;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Compiles each format's SIMD kernels before a model's weights are copied into row groups, then hands the compiler's
 * freed working memory back to the operating system.
 *
 * <p>Why: C2 needs 20-60 MB of arena memory to compile one of the large row-group kernels (52 MB for
 * {@code Q4_KRowGroups.dot8}, 45 MB for its prompt tile; {@code -XX:CompileCommand=memstat,*::*,print}), and glibc
 * keeps that memory in the compiler thread's malloc arena afterwards. Compiled during the first prompt, with every
 * weight already resident, the peak resident memory is the weights plus the largest compilation; compiled first, on a
 * sixteen-row slice, and trimmed ({@code malloc_trim(0)}), it is the larger of the two. The compile time is the same;
 * it moves from the first prompt to the load. Small models are not warmed: their first prompts seldom run long
 * enough for C2 to compile the kernels at all, so warming them would only add seconds.
 */
public final class KernelWarmUp {
    private KernelWarmUp() {}

    /** Models whose matrices hold fewer bytes than this are not warmed (SmolLM2-135M holds about 94 MiB). */
    public static final long MIN_MODEL_BYTES = 64L << 20;

    /** Rows of the slice a format is warmed on: one sixteen-row group (two eight-row ones). */
    static final int ROWS = RowGroupLayout.MAX_GROUP_ROWS;

    /** A matrix of the model, as its GGUF tensor: {@code cols} × {@code rows}, row-major in {@code data}. */
    public record Matrix(String name, GgmlType type, long cols, long rows, MemorySegment data) {}

    /**
     * The first matrix of each computable format that can give a sixteen-row slice; malformed ones are left to the
     * loader's checks, which name them.
     */
    static List<Matrix> onePerFormat(List<Matrix> matrices) {
        Set<GgmlType> seen = EnumSet.noneOf(GgmlType.class);
        List<Matrix> chosen = new ArrayList<>();
        for (Matrix m : matrices) {
            GgmlType type = m.type();
            if (type.isSupportedForCompute() && m.rows() >= ROWS && m.cols() > 0 && m.cols() % type.blockSize() == 0
                    && m.data().byteSize() >= ROWS * type.byteSize(m.cols()) && seen.add(type)) {
                chosen.add(m);
            }
        }
        return chosen;
    }

    /**
     * Compiles the kernels that {@code matrices} will run at {@code width}, one sixteen-row slice per format, and
     * trims the C heap; nothing for the scalar width or a model under {@link #MIN_MODEL_BYTES}.
     */
    public static void beforePacking(List<Matrix> matrices, VectorWidth width) {
        long bytes = 0;
        for (Matrix m : matrices) {
            bytes += m.data().byteSize();
        }
        if (width == VectorWidth.SCALAR || bytes < MIN_MODEL_BYTES) {
            return;
        }
        for (Matrix m : onePerFormat(matrices)) {
            long rowBytes = m.type().byteSize(m.cols());
            WeightMatrix.of(m.name(), m.type(), new long[] {m.cols(), ROWS}, m.data().asSlice(0, ROWS * rowBytes),
                    width).warmUp();
        }
        trimNativeHeap();
    }

    private static final Optional<MethodHandle> MALLOC_TRIM = lookUpMallocTrim();

    private static Optional<MethodHandle> lookUpMallocTrim() {
        // a restricted method: without --enable-native-access it would print a warning, so the trim is skipped
        if (!KernelWarmUp.class.getModule().isNativeAccessEnabled()) {
            return Optional.empty();
        }
        Linker linker = Linker.nativeLinker();
        return linker.defaultLookup().find("malloc_trim").map(address -> linker.downcallHandle(address,
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG)));
    }

    /**
     * Returns the C heap's free pages to the system ({@code malloc_trim(0)}, which walks every glibc arena) and says
     * whether it ran: false without native access or outside glibc.
     */
    static boolean trimNativeHeap() {
        if (MALLOC_TRIM.isEmpty()) {
            return false;
        }
        try {
            // invokeExact needs the exact return type: 1 when it released memory, 0 when there was none to release
            int releasedAny = (int) MALLOC_TRIM.get().invokeExact(0L);
            return true;
        } catch (Throwable e) {
            throw new IllegalStateException("malloc_trim failed", e);
        }
    }
}
