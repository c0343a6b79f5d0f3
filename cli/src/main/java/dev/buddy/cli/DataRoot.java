package dev.buddy.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * The folder holding the shared models and datasets (the layout of this project's {@code ../shared}), for the
 * commands whose defaults point into it: {@code eval}'s datasets, {@code prune}'s and {@code prior}'s WikiText-2
 * calibration text, {@code synth}'s GPT-2 vocabulary.
 *
 * <p>In order: {@code $BUDDY_DATA}; {@code $BUDDY_TEST_DATA} (the variable the tests and scripts read, so one
 * setting serves both); {@code shared} beside the checkout that contains the working directory (found by its
 * {@code mvnw}, so the defaults work from any folder of a clone); {@code ../shared}. Until this class the commands
 * disagreed: {@code eval} read only {@code BUDDY_TEST_DATA} and {@code prune}/{@code prior} only
 * {@code BUDDY_DATA}, so one variable set for a whole run left half of its commands looking in {@code ../shared}.
 */
public final class DataRoot {
    /** The variables read, first match wins; named in error messages. */
    public static final String VARIABLES = "BUDDY_DATA or BUDDY_TEST_DATA";

    private DataRoot() {}

    /** The shared data folder for this process's environment and working directory. */
    public static Path get() {
        return resolve(System::getenv, Path.of("").toAbsolutePath());
    }

    static Path resolve(UnaryOperator<String> environment, Path workingDirectory) {
        for (String name : new String[] {"BUDDY_DATA", "BUDDY_TEST_DATA"}) {
            String value = environment.apply(name);
            if (value != null && !value.isBlank()) {
                return Path.of(value);
            }
        }
        for (Path dir = workingDirectory; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("mvnw")) && dir.getParent() != null) {
                return dir.resolveSibling("shared");
            }
        }
        return Path.of("..", "shared");
    }
}
