package dev.buddy.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * Vector constants of the 512-bit row-group decode kernels ({@link Q4_0RowGroups#dot16}, {@link Q4_1RowGroups#dot16}
 * and its prompt tile, {@link Q8_0RowGroups#dot16}, {@link Q6_KRowGroups#dot16}, {@link Q4_KRowGroups#dot8} and its
 * prompt tile), and the rule they exist for. {@link KQuantPromptGemm}'s 256-bit micro-kernels follow it too.
 *
 * <p>Those kernels call only Vector API methods that their own call sites dispatch ({@code lanewise(op, vector)},
 * {@code lanewise(FMA, a, b)}, {@code reinterpretShape}, {@code convertShape}), never the final conveniences that
 * dispatch inside the JDK ({@code add}, {@code mul}, {@code fma}, {@code and}, {@code reinterpretAsInts},
 * {@code lanewise(op, int)}). C2 parses a kernel's calls before the Vector API intrinsics have given the vectors
 * their exact classes, so at a call that dispatches inside the JDK it takes the class from that JDK method's own type
 * profile, which every vector kernel in the program shares. When 256-bit code of the same lane type has put its class
 * there too (attention over the F16 cache, ggml's 8-lane norms and exp), C2 compiles class checks or virtual calls
 * that need the vector as an object, and the kernel boxes a vector per operation: the "slow mode" of BENCHMARKS.md
 * (traced in "Session 37"). A kernel's own call sites see only its own classes, so C2 inlines them behind a check it
 * can drop. Shift counts and masks are these constants for the same reason: the JDK calls methods on a shift's count
 * vector, and a constant's class is known.
 *
 * <p>Accumulators still start from {@code FloatVector.zero}, never from a constant: a loop variable that is a
 * constant object on entry is boxed on every turn (a Q4_0 kernel written so decoded at 0.75x, session 37). Nor may a
 * helper method return a vector: in a kernel this large C2 stops inlining at its node budget, and a vector returned
 * from a call it did not inline is boxed (a one-line broadcast helper in {@link Q4_KRowGroups#dot8} decoded at 1.4
 * t/s against 10.5, session 38).
 */
final class Constants512 {
    private Constants512() {}

    /** Shift of an fp16's exponent and mantissa into a float's ({@link Q4_0RowGroups#pack}'s finite-half widening). */
    static final IntVector I13 = IntVector.broadcast(IntVector.SPECIES_512, 13);
    /** Shift between the two 16-bit halves of a 32-bit lane. */
    static final IntVector I16 = IntVector.broadcast(IntVector.SPECIES_512, 16);
    /** The sign, exponent and mantissa bits the finite-half widening keeps. */
    static final IntVector HALF_BITS = IntVector.broadcast(IntVector.SPECIES_512, 0x8FFF_E000);
    /** 2^112: rebiases the widened fp16 exponent to a float's. */
    static final FloatVector HALF_SCALE = FloatVector.broadcast(FloatVector.SPECIES_512, 0x1p112f);
    /** A byte's low nibble in 16-bit lanes. */
    static final ShortVector NIBBLE = ShortVector.broadcast(ShortVector.SPECIES_512, (short) 0x0F);
    /** Shift of a byte's high nibble down, in 16-bit lanes. */
    static final ShortVector S4 = ShortVector.broadcast(ShortVector.SPECIES_512, (short) 4);
}
