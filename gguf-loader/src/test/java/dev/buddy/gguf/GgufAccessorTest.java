package dev.buddy.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The typed metadata accessors over a file holding every value type ({@link SyntheticGguf#everyType()}): widening of
 * unsigned integers, defaults, and messages that name the key and the file when a key is missing or mistyped.
 */
class GgufAccessorTest {
    @TempDir
    static Path dir;
    private static Path path;
    private static GgufFile f;

    @BeforeAll
    static void open() throws IOException {
        path = dir.resolve("every-type.gguf");
        SyntheticGguf.everyType().write(path);
        f = GgufFile.open(path);
    }

    @AfterAll
    static void close() {
        f.close();
    }

    @Test
    void integersOfEveryWidthWidenWithTheirSignedness() {
        assertEquals(200, f.getInt("test.u8"));
        assertEquals(-5, f.getInt("test.i8"));
        assertEquals(60000, f.getInt("test.u16"));
        assertEquals(-300, f.getInt("test.i16"));
        assertEquals(-70000, f.getInt("test.i32"));
        assertEquals(0xFFFF_FFF0L, f.getLong("test.u32"));
        assertEquals(Long.MIN_VALUE + 1, f.getLong("test.i64"));
        assertEquals(2, f.getInt("llama.block_count"));
        // u64 keeps its bit pattern: 2^64 - 2 reads as -2.
        assertEquals(-2L, f.getLong("test.u64"));
    }

    @Test
    void getIntRefusesValuesThatDoNotFit() {
        mistyped(() -> f.getInt("test.u32"), "test.u32", "an int", "uint32");
        mistyped(() -> f.getInt("test.i64"), "test.i64", "an int", "int64");
        mistyped(() -> f.getInt("test.u64"), "test.u64", "an int", "uint64");
    }

    @Test
    void floatsAndTheirNarrowing() {
        assertEquals(0.25f, f.getFloat("test.f32"));
        assertEquals(10000f, f.getFloat("llama.rope.freq_base"));
        assertEquals((float) -1.5e300, f.getFloat("test.f64")); // -Infinity: narrowed as Java narrows
        mistyped(() -> f.getFloat("test.u8"), "test.u8", "a float", "uint8");
    }

    @Test
    void stringsAndBools() {
        assertEquals("naïve ☃ 𝄞", f.getString("test.unicode"));
        assertEquals("", f.getString("test.empty"));
        assertTrue(f.getBool("test.bool"));
        mistyped(() -> f.getString("test.bool"), "test.bool", "a string", "bool");
        mistyped(() -> f.getBool("test.u8"), "test.u8", "a bool", "uint8");
        mistyped(() -> f.getLong("test.unicode"), "test.unicode", "an integer", "string");
    }

    @Test
    void defaultsApplyOnlyWhenTheKeyIsAbsent() {
        assertFalse(f.has("test.absent"));
        assertEquals("dflt", f.getString("test.absent", "dflt"));
        assertEquals(-9, f.getInt("test.absent", -9));
        assertEquals(1L << 40, f.getLong("test.absent", 1L << 40));
        assertEquals(1.5f, f.getFloat("test.absent", 1.5f));
        assertTrue(f.getBool("test.absent", true));
        // A present key of the wrong type is an error, never silently the default.
        mistyped(() -> f.getInt("test.unicode", 3), "test.unicode", "an integer", "string");
        mistyped(() -> f.getString("test.u8", "x"), "test.u8", "a string", "uint8");
        assertEquals(200, f.getInt("test.u8", 3));
    }

    @Test
    void missingKeysAreNamedWithTheFile() {
        for (Executable access : new Executable[] {
                () -> f.getString("test.absent"), () -> f.getInt("test.absent"), () -> f.getLong("test.absent"),
                () -> f.getFloat("test.absent"), () -> f.getBool("test.absent"), () -> f.getStringArray("test.absent"),
                () -> f.getFloatArray("test.absent"), () -> f.getIntArray("test.absent"), () -> f.array("test.absent")}) {
            GgufFormatException e = assertThrows(GgufFormatException.class, access);
            assertTrue(e.getMessage().startsWith(path + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("missing metadata key 'test.absent'"), e.getMessage());
        }
    }

    @Test
    void arraysByElementType() {
        assertArrayEquals(new String[] {"<unk>", "<s>", "▁hi", ""}, f.getStringArray("tokenizer.ggml.tokens"));
        assertArrayEquals(new float[] {0f, -1f, -2.5f, Float.NaN}, f.getFloatArray("tokenizer.ggml.scores"));
        assertArrayEquals(new int[] {2, 3, 1, 1}, f.getIntArray("tokenizer.ggml.token_type"));
        assertArrayEquals(new int[0], f.getIntArray("test.a.empty"));
        GgufValue.GgufArray nested = f.array("test.a.nested");
        assertEquals(GgufValueType.ARRAY, nested.elementType());
        assertEquals(3, nested.length());
        GgufValue.GgufArray inner = ((GgufValue.GgufArray[]) nested.values())[1];
        assertArrayEquals(new byte[] {-1}, (byte[]) ((GgufValue.GgufArray[]) inner.values())[0].values());

        mistyped(() -> f.getStringArray("tokenizer.ggml.scores"), "tokenizer.ggml.scores", "an array of string",
                "array of float32");
        mistyped(() -> f.getFloatArray("test.a.f64"), "test.a.f64", "an array of float32", "array of float64");
        mistyped(() -> f.getIntArray("test.a.u64"), "test.a.u64", "an array of int32", "array of uint64");
        mistyped(() -> f.getStringArray("test.unicode"), "test.unicode", "an array", "string");
    }

    @Test
    void returnedArraysAreCopies() {
        f.getStringArray("tokenizer.ggml.tokens")[0] = "changed";
        f.getFloatArray("tokenizer.ggml.scores")[0] = 42f;
        f.getIntArray("tokenizer.ggml.token_type")[0] = 42;
        assertEquals("<unk>", f.getStringArray("tokenizer.ggml.tokens")[0]);
        assertEquals(0f, f.getFloatArray("tokenizer.ggml.scores")[0]);
        assertEquals(2, f.getIntArray("tokenizer.ggml.token_type")[0]);
    }

    @Test
    void tensorsByName() {
        assertEquals(GgmlType.Q8_0, f.tensor("q8").type());
        assertArrayEquals(new long[] {32, 2}, f.tensor("q8").dims());
        assertEquals(68, f.tensorData("q8").byteSize());
        assertEquals(0, f.tensorData("empty").byteSize());
        var data = f.tensorData("f32");
        var le = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1f, data.get(le, 0));
        assertEquals(16f, data.get(le, 60));
        assertTrue(data.isReadOnly());
        assertTrue(f.findTensor("absent").isEmpty());
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> f.tensor("absent"));
        assertTrue(e.getMessage().startsWith(path + ": ") && e.getMessage().contains("'absent'"), e.getMessage());
    }

    private static void mistyped(Executable access, String key, String expected, String actual) {
        GgufFormatException e = assertThrows(GgufFormatException.class, access);
        String msg = e.getMessage();
        assertTrue(msg.startsWith(path + ": "), msg);
        assertTrue(msg.contains("'" + key + "'"), msg);
        assertTrue(msg.contains("should be " + expected), msg);
        assertTrue(msg.contains("but is " + actual), msg);
    }
}
