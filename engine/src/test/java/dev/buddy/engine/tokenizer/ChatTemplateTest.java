package dev.buddy.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.buddy.gguf.TestData;

/**
 * Family detection and formatting. The Qwen 3 case uses the model's real template; the Llama 3 and Llama 2 cases use
 * the templates, conversation and expected prompts of llama.cpp's {@code tests/test-chat-template.cpp}.
 */
class ChatTemplateTest {

    /** llama.cpp's test conversation, with the padded assistant answer that shows which formats trim. */
    private static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("You are a helpful assistant"),
            ChatMessage.user("Hello"),
            ChatMessage.assistant("Hi there"),
            ChatMessage.user("Who are you"),
            ChatMessage.assistant("   I am an assistant   "),
            ChatMessage.user("Another question"));

    private static String qwen3Template() throws Exception {
        String json = Files.readString(TestData.require("models/qwen3-tokenizer/tokenizer_config.json"),
                StandardCharsets.UTF_8);
        Map<String, Object> config = MiniJson.object(MiniJson.parse(json));
        return (String) config.get("chat_template");
    }

    @Test
    void qwen3TemplateIsChatMl() throws Exception {
        assertInstanceOf(ChatTemplate.ChatMl.class, ChatTemplate.detect(qwen3Template()));
    }

    @Test
    void chatMlRendersWhatTheQwen3TemplateWritesForPlainTurns() throws Exception {
        String template = qwen3Template();
        // The template's own text for a system message, a user message, a past assistant answer and the generation
        // prompt (Jinja string literals, hence the escaped \n); the expected prompt below concatenates exactly these.
        assertTrue(template.contains("'<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n'"));
        assertTrue(template.contains("'<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n'"));
        assertTrue(template.contains("'<|im_start|>' + message.role + '\\n' + content"));
        assertTrue(template.contains("{{- '<|im_end|>\\n' }}"));
        assertTrue(template.contains("{{- '<|im_start|>assistant\\n' }}"));

        String prompt = ChatTemplate.detect(template).render(List.of(
                ChatMessage.system("You are terse."),
                ChatMessage.user("Hi"),
                ChatMessage.assistant("Hello!"),
                ChatMessage.user("2+2?")), true);
        assertEquals("<|im_start|>system\nYou are terse.<|im_end|>\n"
                + "<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello!<|im_end|>\n"
                + "<|im_start|>user\n2+2?<|im_end|>\n"
                + "<|im_start|>assistant\n", prompt);
    }

    @Test
    void chatMlMatchesLlamaCppOpenHermesCase() {
        String template = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content']"
                + " + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
                + "{% endif %}";
        assertEquals("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                        + "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
                        + "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\n"
                        + "Another question<|im_end|>\n<|im_start|>assistant\n",
                ChatTemplate.detect(template).render(CONVERSATION, true));
    }

    @Test
    void llama3MatchesLlamaCppCase() {
        String template = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
                + "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
                + "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
                + "{{ content }}{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}";
        ChatTemplate chat = ChatTemplate.detect(template);
        assertInstanceOf(ChatTemplate.Llama3.class, chat);
        assertEquals("<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                chat.render(CONVERSATION, true));
    }

    @Test
    void llama2WithoutSystemBlockMatchesLlamaCppMistralV02Case() {
        String template = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
                + "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
                + "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + "
                + "message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + "
                + "eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}"
                + "{% endfor %}";
        ChatTemplate chat = ChatTemplate.detect(template);
        assertEquals(new ChatTemplate.Llama2(false, false, false), chat);
        assertEquals("[INST] You are a helpful assistant\nHello [/INST]Hi there</s>[INST] Who are you [/INST]"
                + "   I am an assistant   </s>[INST] Another question [/INST]", chat.render(CONVERSATION, true));
    }

    @Test
    void llama2WithBosInsideHistoryMatchesLlamaCppFusionNetCase() {
        String template = "{%- for idx in range(0, messages|length) -%}\n{%- if messages[idx]['role'] == 'user' -%}\n"
                + "{%- if idx > 1 -%}\n{{- bos_token + '[INST] ' + messages[idx]['content'] + ' [/INST]' -}}\n"
                + "{%- else -%}\n{{- messages[idx]['content'] + ' [/INST]' -}}\n{%- endif -%}\n"
                + "{% elif messages[idx]['role'] == 'system' %}\n{{- '[INST] <<SYS>>\\n' + messages[idx]['content'] + "
                + "'\\n<</SYS>>\\n\\n' -}}\n{%- elif messages[idx]['role'] == 'assistant' -%}\n{{- ' '  + "
                + "messages[idx]['content'] + ' ' + eos_token -}}\n{% endif %}\n{% endfor %}";
        ChatTemplate chat = ChatTemplate.detect(template);
        assertEquals(new ChatTemplate.Llama2(true, true, false), chat);
        assertEquals("[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>"
                + "<s>[INST] Who are you [/INST]   I am an assistant   </s><s>[INST] Another question [/INST]",
                chat.render(CONVERSATION, true));
    }

    @Test
    void llama2WithStrippedMessagesMatchesLlamaCppVigogneCase() {
        String template = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
                + "{% set system_message = messages[0]['content'] %}{% elif true == true and not '<<SYS>>' in "
                + "messages[0]['content'] %}{% set loop_messages = messages %}{% set system_message = 'Vous êtes "
                + "Vigogne, un assistant IA créé par Zaion Lab. Vous suivez extrêmement bien les instructions. Aidez "
                + "autant que vous le pouvez.' %}{% else %}{% set loop_messages = messages %}{% set system_message = "
                + "false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != "
                + "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate "
                + "user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false "
                + "%}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
                + "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
                + "{{ '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'system' %}"
                + "{{ '<<SYS>>\\n' + content.strip() + '\\n<</SYS>>\\n\\n' }}{% elif message['role'] == 'assistant' %}"
                + "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";
        ChatTemplate chat = ChatTemplate.detect(template);
        assertEquals(new ChatTemplate.Llama2(true, false, true), chat);
        assertEquals("[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>"
                + "[INST] Who are you [/INST]I am an assistant</s>[INST] Another question [/INST]",
                chat.render(CONVERSATION, true));
    }

    @Test
    void unknownFamiliesAreRejectedWithTheReason() {
        UnsupportedChatTemplateException e = assertThrows(UnsupportedChatTemplateException.class,
                () -> ChatTemplate.detect("{{ '<start_of_turn>' + message['content'] }}"));
        assertTrue(e.getMessage().contains("unrecognised"), e.getMessage());
        assertThrows(UnsupportedChatTemplateException.class,
                () -> ChatTemplate.detect("[SYSTEM_PROMPT]{{ x }}[INST]"), "Mistral v7 is a different format");
    }

    @Test
    void modelsWithoutATemplateSayWhichKeyIsMissing() {
        Vocabulary spm = VocabularyFiles.llamaSpm().vocabulary();
        UnsupportedChatTemplateException e = assertThrows(UnsupportedChatTemplateException.class,
                () -> ChatTemplate.forVocabulary(spm));
        assertTrue(e.getMessage().contains(Vocabulary.KEY_CHAT_TEMPLATE), e.getMessage());
    }
}
