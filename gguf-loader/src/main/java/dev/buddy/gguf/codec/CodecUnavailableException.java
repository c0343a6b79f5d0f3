package dev.buddy.gguf.codec;

/** Thrown when a GGML type has no block codec, or its codec cannot quantise. */
public final class CodecUnavailableException extends UnsupportedOperationException {
    public CodecUnavailableException(String message) {
        super(message);
    }
}
