package dev.buddy.gguf.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufFile;
import dev.buddy.gguf.GgufWriter;

/** The codec API's contract: lookup, argument checks, offsets, special values and files written and read back. */
class CodecContractTest {
    private static final Set<GgmlType> EXPECTED = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q8_1, GgmlType.Q2_K,
            GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K);

    @Test
    void everyWeightAndActivationTypeHasAQuantisingCodec() {
        assertEquals(EXPECTED, BlockCodecs.supportedTypes());
        for (GgmlType type : EXPECTED) {
            assertTrue(BlockCodecs.has(type));
            assertEquals(type, BlockCodecs.of(type).type());
            assertTrue(BlockCodecs.of(type).canQuantize(), type.toString());
        }
        for (GgmlType type : GgmlType.values()) {
            if (type.isSupportedForCompute()) {
                assertTrue(BlockCodecs.has(type), "compute type without a codec: " + type);
            }
        }
    }

    @Test
    void aTypeWithoutACodecIsNamedInTheError() {
        assertFalse(BlockCodecs.has(GgmlType.IQ2_XXS));
        CodecUnavailableException e =
                assertThrows(CodecUnavailableException.class, () -> BlockCodecs.of(GgmlType.IQ2_XXS));
        assertTrue(e.getMessage().contains("IQ2_XXS"), e.getMessage());
        assertThrows(CodecUnavailableException.class, () -> BlockCodecs.quantize(GgmlType.IQ4_NL, new float[32]));
    }

    @Test
    void allZerosComeBackAsZerosInEveryFormat() {
        float[] zeros = new float[512];
        for (GgmlType type : EXPECTED) {
            byte[] q = BlockCodecs.quantize(type, zeros);
            assertEquals(type.byteSize(512), q.length);
            float[] back = BlockCodecs.dequantize(type, MemorySegment.ofArray(q), 512);
            for (float v : back) {
                assertEquals(0f, v, 0f, type.toString());
            }
        }
    }

    @Test
    void offsetsAndUnalignedPositionsGiveTheSameResultAsOffsetZero() {
        Random random = new Random(42);
        float[] values = new float[512];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        for (GgmlType type : EXPECTED) {
            BlockCodec codec = BlockCodecs.of(type);
            byte[] plain = BlockCodecs.quantize(type, values);
            float[] plainBack = BlockCodecs.dequantize(type, MemorySegment.ofArray(plain), 256);

            // Source elements 256..511 of a longer array, written 3 bytes into a buffer: every multi-byte field unaligned.
            float[] shifted = new float[256 + 512];
            System.arraycopy(values, 0, shifted, 256, 512);
            byte[] buffer = new byte[3 + plain.length + 5];
            codec.quantize(shifted, 256, 512, MemorySegment.ofArray(buffer), 3);
            assertArrayEquals(plain, Arrays.copyOfRange(buffer, 3, 3 + plain.length), type.toString());

            float[] out = new float[7 + 256];
            codec.dequantize(MemorySegment.ofArray(buffer), 3, out, 7, 256);
            assertArrayEquals(plainBack, Arrays.copyOfRange(out, 7, 7 + 256), type.toString());
        }
    }

    @Test
    void countsMustBeWholeBlocks() {
        BlockCodec q8 = BlockCodecs.of(GgmlType.Q8_0);
        float[] x = new float[64];
        MemorySegment dst = MemorySegment.ofArray(new byte[68]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q8.quantize(x, 0, 31, dst, 0));
        assertTrue(e.getMessage().contains("Q8_0") && e.getMessage().contains("31"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> q8.dequantize(dst, 0, x, 0, -32));
        assertThrows(IllegalArgumentException.class, () -> BlockCodecs.quantize(GgmlType.Q4_K, new float[128]));
        assertThrows(IllegalArgumentException.class,
                () -> BlockCodecs.dequantize(GgmlType.Q6_K, MemorySegment.ofArray(new byte[210]), 100));
    }

    @Test
    void rangesOutsideTheArraysOrSegmentsAreRejected() {
        BlockCodec q4 = BlockCodecs.of(GgmlType.Q4_0);
        float[] x = new float[64];
        assertThrows(IndexOutOfBoundsException.class,
                () -> q4.quantize(x, 0, 64, MemorySegment.ofArray(new byte[35]), 0));
        assertThrows(IndexOutOfBoundsException.class,
                () -> q4.quantize(x, 32, 64, MemorySegment.ofArray(new byte[36]), 0));
        assertThrows(IndexOutOfBoundsException.class,
                () -> q4.dequantize(MemorySegment.ofArray(new byte[36]), 1, x, 0, 64));
        assertThrows(IndexOutOfBoundsException.class,
                () -> q4.dequantize(MemorySegment.ofArray(new byte[36]), 0, x, 1, 64));
    }

    @Test
    void blockFormatsRejectNaNAndInfinityWhilePlainFloatsKeepThem() {
        float[] x = new float[256];
        x[17] = Float.NaN;
        for (GgmlType type : EXPECTED) {
            if (type.isQuantized()) {
                IllegalArgumentException e =
                        assertThrows(IllegalArgumentException.class, () -> BlockCodecs.quantize(type, x));
                assertTrue(e.getMessage().contains("index 17"), e.getMessage());
            }
        }
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f,
                Float.intBitsToFloat(0x7F800001), Float.MIN_VALUE};
        byte[] f32 = BlockCodecs.quantize(GgmlType.F32, special);
        float[] back = BlockCodecs.dequantize(GgmlType.F32, MemorySegment.ofArray(f32), special.length);
        for (int i = 0; i < special.length; i++) {
            assertEquals(Float.floatToRawIntBits(special[i]), Float.floatToRawIntBits(back[i]), "F32 keeps bits");
        }
        byte[] f16 = BlockCodecs.quantize(GgmlType.F16, special);
        byte[] bf16 = BlockCodecs.quantize(GgmlType.BF16, special);
        MemorySegment f16Seg = MemorySegment.ofArray(f16);
        MemorySegment bf16Seg = MemorySegment.ofArray(bf16);
        for (int i = 0; i < special.length; i++) {
            assertEquals(Half.fromFloat(special[i]), f16Seg.get(LittleEndian.SHORT, 2L * i), "F16 element " + i);
            assertEquals(Half.floatToBf16(special[i]), bf16Seg.get(LittleEndian.SHORT, 2L * i), "BF16 element " + i);
        }
    }

    /**
     * ggml computes the quants with the unrounded scale and only then stores it as fp16, so a block whose scale
     * exceeds fp16 keeps valid quants beside an infinite d, which then decodes to infinities (and NaN for zeros).
     */
    @Test
    void aScaleBeyondFp16IsStoredAsInfinityAsGgmlDoes() {
        float[] x = new float[32];
        x[0] = 1e7f; // d = 1e7 / 127 > 65504
        x[1] = 5e6f;
        byte[] q = BlockCodecs.quantize(GgmlType.Q8_0, x);
        assertEquals(Float.POSITIVE_INFINITY, ErrorBoundsTest.jdkHalf(q, 0));
        assertEquals(127, q[2]);
        assertEquals(64, q[3]);
        float[] back = BlockCodecs.dequantize(GgmlType.Q8_0, MemorySegment.ofArray(q), 32);
        assertEquals(Float.POSITIVE_INFINITY, back[0]);
        assertTrue(Float.isNaN(back[2]), "0 × infinity");
    }

    @Test
    void magnitudesBelowFp16sRangeDecodeToZero() {
        float[] x = new float[32];
        Arrays.fill(x, 1e-9f); // d = 7.9e-12 rounds to fp16 zero
        byte[] q = BlockCodecs.quantize(GgmlType.Q8_0, x);
        assertEquals(0f, ErrorBoundsTest.jdkHalf(q, 0));
        for (float v : BlockCodecs.dequantize(GgmlType.Q8_0, MemorySegment.ofArray(q), 32)) {
            assertEquals(0f, v);
        }
    }

    @Test
    void dequantisingMoreThanAnArrayHoldsIsRefused() {
        MemorySegment empty = MemorySegment.ofArray(new byte[0]);
        assertThrows(IllegalArgumentException.class,
                () -> BlockCodecs.dequantize(GgmlType.F32, empty, (long) Integer.MAX_VALUE + 1));
    }

    /** Tests write synthetic models of every format; what a GgufWriter stores must decode the same from the file. */
    @Test
    void tensorsOfEveryFormatSurviveAGgufFile(@TempDir Path dir) throws Exception {
        Random random = new Random(7);
        float[] values = new float[2 * 256];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * 0.02);
        }
        GgufWriter writer = new GgufWriter();
        writer.putString("general.architecture", "llama");
        for (GgmlType type : EXPECTED) {
            writer.addTensor("t." + type, type, new long[] {256, 2}, BlockCodecs.quantize(type, values));
        }
        Path path = dir.resolve("all-formats.gguf");
        writer.write(path);
        assertTrue(Files.size(path) > 0);
        try (GgufFile file = GgufFile.open(path); Arena arena = Arena.ofConfined()) {
            for (GgmlType type : EXPECTED) {
                var info = file.tensor("t." + type);
                assertEquals(type, info.type());
                MemorySegment mapped = file.tensorData(info);
                float[] fromFile = BlockCodecs.dequantize(type, mapped, values.length);
                MemorySegment copy = arena.allocate(mapped.byteSize());
                copy.copyFrom(mapped);
                assertArrayEquals(BlockCodecs.dequantize(type, copy, values.length), fromFile, type.toString());
                assertArrayEquals(BlockCodecs.quantize(type, values), mapped.toArray(ValueLayout.JAVA_BYTE));
            }
        }
    }
}
