package dev.buddy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataRootTest {
    @TempDir
    Path tmp;

    @Test
    void buddyDataWinsOverTheTestVariable() {
        Map<String, String> env = Map.of("BUDDY_DATA", "/data/a", "BUDDY_TEST_DATA", "/data/b");
        assertEquals(Path.of("/data/a"), DataRoot.resolve(env::get, tmp));
    }

    @Test
    void theTestVariableServesWhenBuddyDataIsUnsetOrBlank() {
        assertEquals(Path.of("/data/b"), DataRoot.resolve(Map.of("BUDDY_TEST_DATA", "/data/b")::get, tmp));
        Map<String, String> blank = Map.of("BUDDY_DATA", "  ", "BUDDY_TEST_DATA", "/data/b");
        assertEquals(Path.of("/data/b"), DataRoot.resolve(blank::get, tmp));
    }

    @Test
    void withoutVariablesItIsSharedBesideTheCheckoutHoldingTheWorkingDirectory() throws IOException {
        Path checkout = Files.createDirectories(tmp.resolve("main"));
        Files.writeString(checkout.resolve("mvnw"), "#!/bin/sh\n");
        Path deep = Files.createDirectories(checkout.resolve("router/src"));
        assertEquals(tmp.resolve("shared"), DataRoot.resolve(name -> null, deep));
        assertEquals(tmp.resolve("shared"), DataRoot.resolve(name -> null, checkout));
    }

    @Test
    void outsideAnyCheckoutItFallsBackToTheRelativeSharedFolder() throws IOException {
        Path elsewhere = Files.createDirectories(tmp.resolve("x/y"));
        Files.createDirectories(tmp.resolve("x/y/mvnw")); // a folder named mvnw is not the wrapper script
        assertEquals(Path.of("..", "shared"), DataRoot.resolve(name -> null, elsewhere));
    }
}
