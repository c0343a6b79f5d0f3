package dev.buddy.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.buddy.gguf.GgufStrings;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * {@link TokenTexts} and {@link TokenIndex}, which hold a vocabulary's texts as one character array instead of a
 * {@code String} per token, against a {@code HashMap<String, Integer>} of the same texts: every lookup form (whole
 * string, region of a string, region of a char array, merge line without its space) answers as the map does, for
 * texts with supplementary characters, GPT-2 byte characters and lookups of absent texts.
 */
class TokenIndexProperties {

    @Property(tries = 300)
    void lookupsAnswerAsAHashMapDoes(@ForAll("vocabularies") List<String> tokens, @ForAll("texts") List<String> probes) {
        TokenTexts texts = new TokenTexts(GgufStrings.of(tokens.toArray(String[]::new)));
        TokenIndex index = new TokenIndex(texts);
        Map<String, Integer> reference = new HashMap<>();
        for (int id = 0; id < tokens.size(); id++) {
            reference.put(tokens.get(id), id);
            assertEquals(tokens.get(id), texts.text(id));
            assertEquals(tokens.get(id).length(), texts.length(id));
            assertEquals(tokens.get(id).hashCode(), texts.hash(id));
        }
        for (String probe : concat(tokens, probes)) {
            int expected = reference.getOrDefault(probe, -1);
            assertEquals(expected, index.find(probe));
            String padded = "«" + probe + "»";
            assertEquals(expected, index.find(padded, 1, 1 + probe.length()));
            assertEquals(expected, index.find(padded.toCharArray(), 1, 1 + probe.length()));
            for (int gap = 0; gap <= probe.length(); gap++) {
                String merge = probe.substring(0, gap) + " " + probe.substring(gap);
                assertEquals(expected, index.findWithout(merge, gap));
            }
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        Set<String> all = new LinkedHashSet<>(a);
        all.addAll(b);
        return List.copyOf(all);
    }

    @Provide
    Arbitrary<List<String>> vocabularies() {
        return texts().map(list -> List.copyOf(new LinkedHashSet<>(list))).filter(list -> !list.isEmpty());
    }

    @Provide
    Arbitrary<List<String>> texts() {
        // GPT-2 byte characters (U+0100-U+0143), ASCII, "▁", and supplementary characters (surrogate pairs).
        Arbitrary<Integer> codePoint = Arbitraries.oneOf(Arbitraries.integers().between('a', 'e'),
                Arbitraries.integers().between(0x100, 0x143), Arbitraries.just(0x2581),
                Arbitraries.integers().between(0x1F600, 0x1F603));
        Arbitrary<String> text = codePoint.list().ofMaxSize(5)
                .map(cps -> new String(cps.stream().mapToInt(Integer::intValue).toArray(), 0, cps.size()));
        return text.list().ofMaxSize(60);
    }
}
