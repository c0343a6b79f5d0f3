package dev.buddy.engine.tensor;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.ShortVector;

/**
 * Vector constants of the 256-bit kernels, the AVX2 path. {@link #I16} also serves every 256-bit kernel that sums a
 * 32-bit lane's two 16-bit halves as {@code t + (t << 16)}, the product with {@code 0x10001} without the slow 32-bit
 * multiply (Q4_0 row groups, Q4_1, Q8_0, Q4_K). The K-quant kernels ({@code Q4_KMatrix.V256}, {@code Q6_KMatrix.V256}:
 * decode and prompt dequantisation) follow {@link Constants512}'s rule: only Vector API methods that the
 * kernel's own call sites dispatch, shift counts and masks as vectors of a known class. Without it, under the
 * slow-mode trigger ({@code -XX:-TieredCompilation}) at {@code -Dbuddy.vector.bits=256} the Llama-1B-shaped Q4_K_M
 * file decoded at 0.7 t/s with 32,839 young collections (BENCHMARKS.md, "Session 39").
 *
 * <p>The rule alone was not enough there (28,904 collections). Two loop shapes still boxed their vectors under the
 * trigger, and these kernels now avoid both:
 * <ul>
 *   <li>an {@code IntVector} carried round a loop (a super-block's integer sum over sub-blocks, a plane shifted
 *       right by 8 each turn), though a {@code FloatVector} in the same place is not boxed. Both now go round their
 *       loops as float vectors' bits ({@code reinterpretShape}, no instruction). For Q4_K's sum, float FMAs
 *       of the same integers (exact, every partial sum being below 2^24) were 10% slower in cache; Q6_K sums in
 *       float FMAs, which were faster than its 32-bit multiplies. Writing the shifts out with constant counts also
 *       works, but doubles C2's arena for the method;</li>
 *   <li>a sum carried through a two-row loop nested in another loop, whether the row picked its sum with an if/else
 *       or the two sums rotated. The two rows are written out, each in its own block.</li>
 * </ul>
 */
final class Constants256 {
    private Constants256() {}

    static final ShortVector S2 = ShortVector.broadcast(ShortVector.SPECIES_256, (short) 2);
    static final ShortVector S4 = ShortVector.broadcast(ShortVector.SPECIES_256, (short) 4);
    static final ShortVector S8 = ShortVector.broadcast(ShortVector.SPECIES_256, (short) 8);
    static final ShortVector S12 = ShortVector.broadcast(ShortVector.SPECIES_256, (short) 12);
    /** Both bytes' low nibbles of a 16-bit lane. */
    static final ShortVector LOW_NIBBLES = ShortVector.broadcast(ShortVector.SPECIES_256, (short) 0x0F0F);
    /** Both bytes' bits 4 and 5 of a 16-bit lane: a Q6_K quant's two high bits in place. */
    static final ShortVector HIGH_BITS = ShortVector.broadcast(ShortVector.SPECIES_256, (short) 0x3030);
    /** The low nibble of a 16-bit lane. */
    static final ShortVector NIBBLE = ShortVector.broadcast(ShortVector.SPECIES_256, (short) 0x000F);
    /** The low byte of a 16-bit lane. */
    static final ShortVector LOW_BYTE = ShortVector.broadcast(ShortVector.SPECIES_256, (short) 0x00FF);

    static final IntVector I2 = IntVector.broadcast(IntVector.SPECIES_256, 2);
    static final IntVector I4 = IntVector.broadcast(IntVector.SPECIES_256, 4);
    static final IntVector I8 = IntVector.broadcast(IntVector.SPECIES_256, 8);
    static final IntVector I16 = IntVector.broadcast(IntVector.SPECIES_256, 16);
    /** Q6_K's offset: a 6-bit quant q stands for q - 32. */
    static final IntVector I32 = IntVector.broadcast(IntVector.SPECIES_256, 32);
    /** The low nibble of a 32-bit lane. */
    static final IntVector INT_NIBBLE = IntVector.broadcast(IntVector.SPECIES_256, 0xF);
    /** The low byte of a 32-bit lane. */
    static final IntVector INT_LOW_BYTE = IntVector.broadcast(IntVector.SPECIES_256, 0xFF);
    /** All four bytes' low nibbles of a 32-bit lane. */
    static final IntVector INT_LOW_NIBBLES = IntVector.broadcast(IntVector.SPECIES_256, 0x0F0F0F0F);
    /** All four bytes' bits 4 and 5 of a 32-bit lane. */
    static final IntVector INT_HIGH_BITS = IntVector.broadcast(IntVector.SPECIES_256, 0x30303030);

    static final LongVector L32 = LongVector.broadcast(LongVector.SPECIES_256, 32);
}
