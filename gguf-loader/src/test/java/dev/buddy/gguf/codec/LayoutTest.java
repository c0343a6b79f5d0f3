package dev.buddy.gguf.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import dev.buddy.gguf.GgmlType;

/**
 * Decodes random blocks element by element from the layouts in ggml-common.h, written as "where does element e live",
 * the opposite direction from the codecs' loops, so that a layout mistake made consistently in a quantiser and its
 * dequantiser (which round-trip tests cannot see) is caught. Scales are decoded with the JDK's fp16 conversion.
 * The expected values use ggml's operation order, so they must match exactly.
 */
class LayoutTest {

    @Property(tries = 200)
    void q4_0(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q4_0, seed, 0);
        float d = half(b, 0);
        check(GgmlType.Q4_0, b, e -> (nibble(b, 2, e % 16, e >= 16) - 8) * d);
    }

    @Property(tries = 200)
    void q4_1(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q4_1, seed, 0, 2);
        float d = half(b, 0);
        float m = half(b, 2);
        check(GgmlType.Q4_1, b, e -> nibble(b, 4, e % 16, e >= 16) * d + m);
    }

    @Property(tries = 200)
    void q5_0(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q5_0, seed, 0);
        float d = half(b, 0);
        check(GgmlType.Q5_0, b, e -> ((nibble(b, 6, e % 16, e >= 16) | bit(b, 2 + e / 8, e % 8) << 4) - 16) * d);
    }

    @Property(tries = 200)
    void q5_1(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q5_1, seed, 0, 2);
        float d = half(b, 0);
        float m = half(b, 2);
        check(GgmlType.Q5_1, b, e -> (nibble(b, 8, e % 16, e >= 16) | bit(b, 4 + e / 8, e % 8) << 4) * d + m);
    }

    @Property(tries = 200)
    void q8_0(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q8_0, seed, 0);
        float d = half(b, 0);
        check(GgmlType.Q8_0, b, e -> b[2 + e] * d);
    }

    @Property(tries = 200)
    void q2_K(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q2_K, seed, 80, 82);
        float d = half(b, 80);
        float dmin = half(b, 82);
        check(GgmlType.Q2_K, b, e -> {
            int half = e / 128;
            int r = e % 128;
            int q = ((b[16 + 32 * half + r % 32] & 0xFF) >> (2 * (r / 32))) & 3;
            int packed = b[e / 16] & 0xFF; // scale in the low nibble, min in the high one
            return d * (packed & 0xF) * q - dmin * (packed >> 4);
        });
    }

    @Property(tries = 200)
    void q3_K(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q3_K, seed, 108);
        float d = half(b, 108);
        check(GgmlType.Q3_K, b, e -> {
            int half = e / 128;
            int r = e % 128;
            int low = ((b[32 + 32 * half + r % 32] & 0xFF) >> (2 * (r / 32))) & 3;
            int highBitSet = bit(b, e % 32, e / 32);
            int j = e / 16;
            int scaleLow = j < 8 ? b[96 + j] & 0xF : (b[96 + j - 8] & 0xFF) >> 4;
            int scaleHigh = ((b[96 + 8 + j % 4] & 0xFF) >> (2 * (j / 4))) & 3;
            int scale = (scaleLow | scaleHigh << 4) - 32;
            return d * scale * (low - (highBitSet == 1 ? 0 : 4));
        });
    }

    @Property(tries = 200)
    void q4_K(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q4_K, seed, 0, 2);
        float d = half(b, 0);
        float dmin = half(b, 2);
        check(GgmlType.Q4_K, b, e -> {
            int chunk = e / 64;
            int r = e % 64;
            int q = nibble(b, 16 + 32 * chunk, r % 32, r >= 32);
            int j = e / 32;
            return d * scaleK(b, 4, j) * q - dmin * minK(b, 4, j);
        });
    }

    @Property(tries = 200)
    void q5_K(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q5_K, seed, 0, 2);
        float d = half(b, 0);
        float dmin = half(b, 2);
        check(GgmlType.Q5_K, b, e -> {
            int chunk = e / 64;
            int r = e % 64;
            int q = nibble(b, 48 + 32 * chunk, r % 32, r >= 32) | bit(b, 16 + r % 32, 2 * chunk + r / 32) << 4;
            int j = e / 32;
            return d * scaleK(b, 4, j) * q - dmin * minK(b, 4, j);
        });
    }

    @Property(tries = 200)
    void q6_K(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q6_K, seed, 208);
        float d = half(b, 208);
        check(GgmlType.Q6_K, b, e -> {
            int half = e / 128;
            int r = e % 128;
            int l = r % 32;
            int quarter = r / 32;
            int low = nibble(b, 64 * half + (quarter % 2 == 1 ? 32 : 0), l, quarter >= 2);
            int high = ((b[128 + 32 * half + l] & 0xFF) >> (2 * quarter)) & 3;
            int q = (low | high << 4) - 32;
            return d * b[192 + e / 16] * q;
        });
    }

    @Property(tries = 200)
    void q8_K(@ForAll long seed) {
        byte[] b = randomBlock(GgmlType.Q8_K, seed);
        float d = new Random(seed).nextFloat() * 2 - 1;
        MemorySegment.ofArray(b).set(LittleEndian.FLOAT, 0, d);
        check(GgmlType.Q8_K, b, e -> d * b[4 + e]);
    }

    /** Q4_K/Q5_K sub-block scale j: 6 bits, the top 2 of j ≥ 4 kept in the spare bits of bytes 0..3. */
    private static int scaleK(byte[] b, int at, int j) {
        return j < 4 ? b[at + j] & 63 : (b[at + j + 4] & 0xF) | ((b[at + j - 4] & 0xFF) >> 6) << 4;
    }

    /** Q4_K/Q5_K sub-block min j: 6 bits, the top 2 of j ≥ 4 kept in the spare bits of bytes 4..7. */
    private static int minK(byte[] b, int at, int j) {
        return j < 4 ? b[at + j + 4] & 63 : ((b[at + j + 4] & 0xFF) >> 4) | ((b[at + j] & 0xFF) >> 6) << 4;
    }

    private interface Element {
        float value(int e);
    }

    private static void check(GgmlType type, byte[] block, Element expected) {
        float[] actual = new float[type.blockSize()];
        BlockCodecs.of(type).dequantize(MemorySegment.ofArray(block), 0, actual, 0, actual.length);
        for (int e = 0; e < actual.length; e++) {
            float want = expected.value(e);
            assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(actual[e]),
                    type + " element " + e + ": expected " + want + " got " + actual[e]);
        }
    }

    /** Random bytes, with finite fp16 scales of moderate size at the given offsets. */
    private static byte[] randomBlock(GgmlType type, long seed, int... halfOffsets) {
        Random random = new Random(seed);
        byte[] b = new byte[type.bytesPerBlock()];
        random.nextBytes(b);
        for (int at : halfOffsets) {
            short h = Float.floatToFloat16((float) (random.nextGaussian() * Math.pow(10, random.nextInt(-6, 3))));
            b[at] = (byte) h;
            b[at + 1] = (byte) (h >> 8);
        }
        return b;
    }

    private static float half(byte[] b, int at) {
        return ErrorBoundsTest.jdkHalf(b, at);
    }

    private static int nibble(byte[] b, int at, int index, boolean high) {
        int v = b[at + index] & 0xFF;
        return high ? v >> 4 : v & 0xF;
    }

    private static int bit(byte[] b, int byteIndex, int bitIndex) {
        return (b[byteIndex] >> bitIndex) & 1;
    }
}
