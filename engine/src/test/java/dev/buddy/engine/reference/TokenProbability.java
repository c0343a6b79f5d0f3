package dev.buddy.engine.reference;

/**
 * One candidate for the next token: its id, its text piece, llama.cpp's raw logit and the softmax probability over the
 * whole vocabulary at temperature 1 (computed here in double precision from llama.cpp's logits).
 */
public record TokenProbability(int tokenId, String piece, float logit, double probability) {}
