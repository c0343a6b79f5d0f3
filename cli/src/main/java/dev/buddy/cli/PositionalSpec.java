package dev.buddy.cli;

/**
 * A positional argument, e.g. {@code MODEL.gguf}. Optional ones may instead be given by an option. A last positional
 * whose name ends in {@code ...} (e.g. {@code FILE...}) takes any number of arguments.
 */
public record PositionalSpec(String name, String description) {
    /** Whether this positional soaks up every remaining argument (only meaningful for the last one). */
    public boolean repeatable() {
        return name.endsWith("...");
    }
}
