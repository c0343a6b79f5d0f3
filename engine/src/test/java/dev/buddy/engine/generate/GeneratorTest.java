package dev.buddy.engine.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.buddy.engine.e2e.GgufEdit;
import dev.buddy.engine.e2e.SyntheticModels;
import dev.buddy.engine.kv.KvCacheType;
import dev.buddy.engine.model.ContextOverflowException;
import dev.buddy.engine.reference.GreedyRun;
import dev.buddy.engine.reference.LlamaCppReference;
import dev.buddy.engine.sampling.SamplerConfig;
import dev.buddy.engine.tokenizer.ChatMessage;
import dev.buddy.engine.tokenizer.ChatTemplate;
import dev.buddy.engine.tokenizer.UnsupportedChatTemplateException;
import dev.buddy.gguf.GgmlType;
import dev.buddy.gguf.GgufValue;
import dev.buddy.gguf.GgufValueType;
import dev.buddy.gguf.TestData;

class GeneratorTest {

    private static Path stories() {
        return TestData.require("models/stories260K.gguf");
    }

    private static GenerationOptions greedy() {
        return GenerationOptions.defaults().withThreads(1).withContextLength(256).withSampler(SamplerConfig.greedy());
    }

    @Test
    void greedyTextGenerationIsLlamaCppsFromTheTextPrompt() throws IOException {
        String prompt = "Once upon a time, there was a";
        List<Integer> streamed = new ArrayList<>();
        StringBuilder streamedText = new StringBuilder();
        GenerationResult r;
        try (Generator g = Generator.open(stories(), greedy().withKvCacheType(KvCacheType.F16))) {
            r = g.generate(prompt, 80, (token, text) -> {
                streamed.add(token);
                streamedText.append(text);
            });
        }
        try (LlamaCppReference llama = LlamaCppReference.open(stories(), LlamaCppReference.Options.defaults()
                .withKvCacheType(LlamaCppReference.KvCacheType.F16))) {
            int[] promptIds = llama.tokenize(prompt, true);
            assertArrayEquals(promptIds, r.promptTokens(), "prompt tokenization");
            GreedyRun run = llama.greedyRun(promptIds, 80, 0, true);
            int[] expected = run.generatedTokens();
            if (expected.length > 0 && llama.isEndOfGeneration(expected[expected.length - 1])) {
                assertEquals(StopReason.END_OF_TEXT, r.stopReason());
                expected = Arrays.copyOf(expected, expected.length - 1); // the stop token is not output
            } else {
                assertEquals(StopReason.MAX_TOKENS, r.stopReason());
            }
            assertArrayEquals(expected, r.tokens());
            assertEquals(llama.detokenize(expected), r.text());
        }
        assertArrayEquals(r.tokens(), streamed.stream().mapToInt(Integer::intValue).toArray());
        assertEquals(r.text(), streamedText.toString());
        assertTrue(r.promptTokensPerSecond() > 0 && Double.isFinite(r.promptTokensPerSecond()));
        assertTrue(r.generationTokensPerSecond() > 0 && Double.isFinite(r.generationTokensPerSecond()));
    }

    @Test
    void emptyPromptStartsFromBosAlone() throws IOException {
        try (Generator g = Generator.open(stories(), greedy())) {
            GenerationResult r = g.generate("", 10, TokenListener.NONE);
            assertArrayEquals(new int[] {g.tokenizer().vocabulary().bosId()}, r.promptTokens());
            assertEquals(10, r.tokens().length);
            assertFalse(r.text().startsWith(" "), "a text that starts from nothing has no leading space");
        }
    }

    @Test
    void promptLongerThanTheContextIsATypedError() throws IOException {
        try (Generator g = Generator.open(stories(), greedy().withContextLength(8))) {
            ContextOverflowException e = assertThrows(ContextOverflowException.class,
                    () -> g.generate("Once upon a time there was a little girl named Lily", 5, TokenListener.NONE));
            assertEquals(8, e.contextLength());
            assertTrue(e.getMessage().contains("context of 8"), e.getMessage());
        }
    }

    @Test
    void aSuppliedBackendRunsEveryForwardPassAndItsLogitsDriveSampling() throws IOException {
        int[] prompt = {1, 403, 407, 261, 378};
        int[] plain;
        try (Generator g = Generator.open(stories(), greedy())) {
            plain = g.generate(prompt, 8, TokenListener.NONE).tokens();
        }
        try (dev.buddy.engine.model.Model model = dev.buddy.engine.model.Model.load(stories());
                dev.buddy.engine.tensor.Parallel pool = new dev.buddy.engine.tensor.Parallel(1)) {
            BannedTokenBackend backend = new BannedTokenBackend(model, pool, plain[0]);
            GenerationResult r;
            try (Generator g = Generator.of(model, greedy(), backend)) {
                assertEquals(64, g.contextLength(), "the backend's context, not the options'");
                r = g.generate(prompt, 8, TokenListener.NONE);
            }
            assertTrue(backend.closed, "the generator closes the backend it was given");
            assertEquals(1, backend.resets);
            // The prompt in one call at position 0, then one call per generated token but the last, in order.
            List<Integer> expected = new ArrayList<>(List.of(0));
            for (int i = 0; i + 1 < r.tokens().length; i++) {
                expected.add(prompt.length + i);
            }
            assertEquals(expected, backend.starts);
            assertTrue(r.tokens().length > 3, "too short a run to show anything: " + Arrays.toString(r.tokens()));
            assertTrue(Arrays.stream(r.tokens()).noneMatch(t -> t == plain[0]), "the backend's logits were sampled");
        }
    }

    /** The CPU forward pass with one token made impossible, recording how the generator drives it. */
    private static final class BannedTokenBackend implements ForwardBackend {
        private final dev.buddy.engine.model.Transformer transformer;
        private final dev.buddy.engine.model.InferenceState state;
        private final int banned;
        final List<Integer> starts = new ArrayList<>();
        int resets;
        boolean closed;

        BannedTokenBackend(dev.buddy.engine.model.Model model, dev.buddy.engine.tensor.Parallel pool, int banned) {
            this.transformer = new dev.buddy.engine.model.Transformer(model, pool);
            this.state = transformer.newState(64, KvCacheType.F32, 16, dev.buddy.engine.model.SkippedKvPolicy.ZEROS);
            this.banned = banned;
        }

        @Override
        public int contextLength() {
            return state.contextLength();
        }

        @Override
        public void reset() {
            resets++;
            state.reset();
        }

        @Override
        public float[] forward(int[] tokens, int offset, int count, int startPosition,
                dev.buddy.engine.model.LayerPlanner planner) {
            starts.add(startPosition);
            float[] logits = transformer.forward(state, tokens, offset, startPosition, count, planner, true);
            logits[banned] = Float.NEGATIVE_INFINITY;
            return logits;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void generationStopsCleanlyWhenTheContextIsFull() throws IOException {
        try (Generator g = Generator.open(stories(), greedy().withContextLength(12))) {
            GenerationResult r = g.generate(new int[] {1, 403, 407, 261, 378}, 100, TokenListener.NONE);
            // 5 prompt positions + 7 decoded positions fill 12; the 8th token comes from the last logits.
            assertEquals(StopReason.CONTEXT_FULL, r.stopReason());
            assertEquals(12 - 5 + 1, r.tokens().length);
        }
    }

    @Test
    void seededSamplingIsReproducible() throws IOException {
        SamplerConfig hot = new SamplerConfig(1.2f, 40, 0.95f, 0.02f, 1.1f, 32, 1234);
        int[] first;
        try (Generator g = Generator.open(stories(), greedy().withSampler(hot))) {
            first = g.generate("Once upon a time", 40, TokenListener.NONE).tokens();
            // A second run on the same generator restarts the sequence and the random stream.
            assertArrayEquals(first, g.generate("Once upon a time", 40, TokenListener.NONE).tokens());
        }
        try (Generator g = Generator.open(stories(), greedy().withSampler(hot))) {
            assertArrayEquals(first, g.generate("Once upon a time", 40, TokenListener.NONE).tokens());
        }
        try (Generator g = Generator.open(stories(), greedy().withSampler(hot.withSeed(99)))) {
            assertFalse(Arrays.equals(first, g.generate("Once upon a time", 40, TokenListener.NONE).tokens()),
                    "another seed gives another story");
        }
    }

    /** Llama 2's chat template (as in its tokenizer_config.json), for a synthetic model with the Llama 2 vocabulary. */
    private static final String LLAMA2_TEMPLATE = "{% if messages[0]['role'] == 'system' %}{% set loop_messages ="
            + " messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages ="
            + " messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
            + "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message"
            + " + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}"
            + "{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}"
            + "{% endfor %}";

    @Test
    void chatFormatsWithTheModelsTemplateAndGeneratesLikeLlamaCpp(@TempDir Path dir) throws IOException {
        Path plain = SyntheticModels.write(SyntheticModels.llama(GgmlType.F32), dir.resolve("llama.gguf"));
        Path chatModel = GgufEdit.copy(plain, dir.resolve("llama-chat.gguf"), Map.of("tokenizer.chat_template",
                new GgufValue(GgufValueType.STRING, LLAMA2_TEMPLATE)), Function.identity());
        List<ChatMessage> conversation = List.of(ChatMessage.system("You are terse."), ChatMessage.user("Hello!"));
        GenerationResult r;
        int[] expectedPrompt;
        try (Generator g = Generator.open(chatModel, greedy().withKvCacheType(KvCacheType.F32))) {
            String text = ChatTemplate.forVocabulary(g.tokenizer().vocabulary()).render(conversation, true);
            assertTrue(text.contains("[INST]") && text.contains("<<SYS>>"), text);
            expectedPrompt = g.tokenizer().encode(text, true, true);
            r = g.chat(conversation, 20, TokenListener.NONE);
        }
        assertArrayEquals(expectedPrompt, r.promptTokens());
        try (LlamaCppReference llama = LlamaCppReference.open(chatModel)) {
            int[] expected = llama.greedyRun(expectedPrompt, 20, 0, true).generatedTokens();
            if (r.stopReason() == StopReason.END_OF_TEXT) {
                expected = Arrays.copyOf(expected, expected.length - 1);
            }
            assertArrayEquals(expected, r.tokens());
        }
    }

    @Test
    void chatNeedsAChatTemplate() throws IOException {
        try (Generator g = Generator.open(stories(), greedy())) {
            assertThrows(UnsupportedChatTemplateException.class,
                    () -> g.chat(List.of(ChatMessage.user("Hi")), 5, TokenListener.NONE));
        }
    }
}
