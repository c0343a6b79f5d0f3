package dev.buddy.engine.tokenizer;

import java.util.List;

/**
 * Formats a conversation into prompt text for a model family. Buddy does not run Jinja: like llama.cpp's
 * {@code llm_chat_detect_template}, it recognises the family from marker strings in {@code tokenizer.chat_template}
 * and formats with a fixed formatter that reproduces the template's output for plain text conversations.
 *
 * <p>The text contains control-token markers (such as {@code <|im_start|>}) and no BOS: encode it with
 * {@code parseSpecial = true} and let the tokenizer add BOS as the vocabulary asks.
 */
public sealed interface ChatTemplate permits ChatTemplate.ChatMl, ChatTemplate.Llama3, ChatTemplate.Llama2 {

    /**
     * The prompt for a conversation.
     *
     * @param addGenerationPrompt whether to end with the opening of an assistant turn, for the model to continue
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** The formatter for a vocabulary's {@code tokenizer.chat_template}. */
    static ChatTemplate forVocabulary(Vocabulary vocabulary) {
        return detect(vocabulary.chatTemplate().orElseThrow(() -> new UnsupportedChatTemplateException(
                "the model has no chat template (no " + Vocabulary.KEY_CHAT_TEMPLATE + ")")));
    }

    /** The formatter for a Jinja chat template, by the markers it contains (llama.cpp's detection order). */
    static ChatTemplate detect(String template) {
        if (template.contains("<|im_start|>")) {
            if (template.contains("<|im_sep|>") || template.contains("<end_of_utterance>")) {
                throw new UnsupportedChatTemplateException(
                        "ChatML variant (Phi-4 or SmolVLM markers) is not supported");
            }
            return new ChatMl();
        }
        if (template.contains("[INST]")) {
            if (template.contains("[SYSTEM_PROMPT]") || template.contains("[AVAILABLE_TOOLS]")
                    || template.contains("' [INST] ' + system_message")) {
                throw new UnsupportedChatTemplateException("Mistral [INST] templates are not supported");
            }
            return new Llama2(template.contains("<<SYS>>") || template.contains("content.strip()")
                            || template.contains("bos_token + '[INST]"),
                    template.contains("bos_token + '[INST]") && !template.contains("content.strip()"),
                    template.contains("content.strip()"));
        }
        if (template.contains("<|start_header_id|>") && template.contains("<|end_header_id|>")) {
            return new Llama3();
        }
        throw new UnsupportedChatTemplateException(
                "unrecognised chat template (supported: ChatML, Llama 3, Llama 2 families)");
    }

    /**
     * ChatML (Qwen 2/2.5/3, SmolLM2): {@code <|im_start|>role\ncontent<|im_end|>\n} per message, then
     * {@code <|im_start|>assistant\n}.
     */
    record ChatMl() implements ChatTemplate {
        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            StringBuilder out = new StringBuilder();
            for (ChatMessage message : messages) {
                out.append("<|im_start|>").append(message.role()).append('\n')
                        .append(message.content()).append("<|im_end|>\n");
            }
            if (addGenerationPrompt) {
                out.append("<|im_start|>assistant\n");
            }
            return out.toString();
        }
    }

    /**
     * Llama 3: {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>} with the content trimmed, then
     * {@code <|start_header_id|>assistant<|end_header_id|>\n\n}. The template's leading {@code <|begin_of_text|>} is
     * the BOS the tokenizer adds.
     */
    record Llama3() implements ChatTemplate {
        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            StringBuilder out = new StringBuilder();
            for (ChatMessage message : messages) {
                out.append("<|start_header_id|>").append(message.role()).append("<|end_header_id|>\n\n")
                        .append(trimAsciiWhitespace(message.content())).append("<|eot_id|>");
            }
            if (addGenerationPrompt) {
                out.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
            }
            return out.toString();
        }
    }

    /**
     * Llama 2: {@code [INST] <<SYS>>\nsystem\n<</SYS>>\n\nuser [/INST]assistant</s>} with each later user turn opening
     * {@code [INST] } again. The opening BOS is the tokenizer's; turns after an answer start with {@code <s>} when the
     * template writes {@code bos_token + '[INST]'}. The prompt always ends ready for the assistant, so
     * {@code addGenerationPrompt} changes nothing.
     *
     * @param systemMessageBlock whether system messages go in a {@code <<SYS>>} block (else they prefix the user text)
     * @param bosInsideHistory   whether later turns start with {@code <s>}
     * @param stripMessages      whether message text is trimmed ({@code content.strip()} templates)
     */
    record Llama2(boolean systemMessageBlock, boolean bosInsideHistory, boolean stripMessages)
            implements ChatTemplate {
        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            StringBuilder out = new StringBuilder("[INST] ");
            boolean insideTurn = true;
            for (ChatMessage message : messages) {
                String content = stripMessages ? trimAsciiWhitespace(message.content()) : message.content();
                if (!insideTurn) {
                    insideTurn = true;
                    out.append(bosInsideHistory ? "<s>[INST] " : "[INST] ");
                }
                switch (message.role()) {
                    case ChatMessage.SYSTEM -> {
                        if (systemMessageBlock) {
                            out.append("<<SYS>>\n").append(content).append("\n<</SYS>>\n\n");
                        } else {
                            out.append(content).append('\n');
                        }
                    }
                    case ChatMessage.USER -> out.append(content).append(" [/INST]");
                    default -> {
                        out.append(content).append("</s>");
                        insideTurn = false;
                    }
                }
            }
            return out.toString();
        }
    }

    /** Trims the C {@code isspace} set (space, \t, \n, \v, \f, \r) like llama.cpp's chat formatter. */
    private static String trimAsciiWhitespace(String text) {
        int start = 0;
        int end = text.length();
        while (start < end && isAsciiSpace(text.charAt(start))) {
            start++;
        }
        while (end > start && isAsciiSpace(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(start, end);
    }

    private static boolean isAsciiSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
