package dev.buddy.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link GgufStrings}, the compact form of string arrays, against the {@code String[]} it replaced: every element
 * decodes to what {@code new String(bytes, UTF_8)} gives, for valid text and for arbitrary (malformed) bytes, and a
 * written array parses back element for element.
 */
class GgufStringsProperties {

    @Property(tries = 300)
    void elementsDecodeToTheStringsGiven(@ForAll("texts") List<String> texts) {
        GgufStrings strings = GgufStrings.of(texts.toArray(String[]::new));
        assertEquals(texts.size(), strings.size());
        for (int i = 0; i < texts.size(); i++) {
            assertEquals(texts.get(i), strings.get(i));
            byte[] utf8 = texts.get(i).getBytes(StandardCharsets.UTF_8);
            assertEquals(utf8.length, strings.utf8Length(i));
            byte[] copy = new byte[utf8.length + 2];
            strings.copyUtf8(i, copy, 1);
            assertArrayEquals(utf8, java.util.Arrays.copyOfRange(copy, 1, 1 + utf8.length));
        }
        assertArrayEquals(texts.toArray(String[]::new), strings.toArray());
        assertEquals(texts.stream().mapToInt(t -> t.getBytes(StandardCharsets.UTF_8).length).sum(), strings.utf8Bytes());
    }

    @Property(tries = 300)
    void arbitraryBytesDecodeAsStringDoes(@ForAll("byteLists") List<byte[]> elements) {
        int total = elements.stream().mapToInt(b -> b.length).sum();
        byte[] utf8 = new byte[total];
        int[] starts = new int[elements.size() + 1];
        int at = 0;
        for (int i = 0; i < elements.size(); i++) {
            starts[i] = at;
            System.arraycopy(elements.get(i), 0, utf8, at, elements.get(i).length);
            at += elements.get(i).length;
        }
        starts[elements.size()] = at;
        GgufStrings strings = new GgufStrings(utf8, starts);
        for (int i = 0; i < elements.size(); i++) {
            assertEquals(new String(elements.get(i), StandardCharsets.UTF_8), strings.get(i));
        }
    }

    @Property(tries = 60)
    void writtenArraysParseBackElementForElement(@ForAll("texts") List<String> texts) throws IOException {
        Path file = Files.createTempFile("strings", ".gguf");
        try {
            new GgufWriter().putStringArray("test.strings", texts.toArray(String[]::new)).write(file);
            try (GgufFile parsed = GgufFile.open(file)) {
                assertArrayEquals(texts.toArray(String[]::new), parsed.getStringArray("test.strings"));
                assertEquals(GgufStrings.of(texts.toArray(String[]::new)), parsed.getStrings("test.strings"));
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Provide
    Arbitrary<List<String>> texts() {
        // Any code point, supplementary ones included (surrogate pairs), but no lone surrogates: those are not text.
        Arbitrary<String> text = Arbitraries.integers().between(0, 0x10FFFF)
                .filter(cp -> cp < 0xD800 || cp > 0xDFFF)
                .list().ofMaxSize(12)
                .map(cps -> new String(cps.stream().mapToInt(Integer::intValue).toArray(), 0, cps.size()));
        return text.list().ofMaxSize(40);
    }

    @Provide
    Arbitrary<List<byte[]>> byteLists() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(10).list().ofMaxSize(30);
    }
}
