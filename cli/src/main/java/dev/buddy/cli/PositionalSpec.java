package dev.buddy.cli;

/** A positional argument, e.g. {@code MODEL.gguf}. Optional ones may instead be given by an option. */
public record PositionalSpec(String name, String description) {}
