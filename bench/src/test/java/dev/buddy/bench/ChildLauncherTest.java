package dev.buddy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.buddy.engine.tensor.VectorWidth;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The child command lines {@link SideBySide} starts: a forced vector width reaches Buddy and only Buddy. */
class ChildLauncherTest {
    private static final SideBySide.Config CONFIG =
            new SideBySide.Config(Path.of("m.gguf"), 8, 4, 1, 2, "f16", Path.of("buddy.jar"));

    @Test
    void aForcedVectorWidthIsPassedToTheBuddyChildOnly() {
        String old = System.getProperty(VectorWidth.PROPERTY);
        System.setProperty(VectorWidth.PROPERTY, "256");
        try {
            ChildLauncher launcher = new ChildLauncher(CONFIG);
            List<String> buddy = launcher.command(SideBySide.Engine.BUDDY);
            String flag = "-D" + VectorWidth.PROPERTY + "=256";
            assertTrue(buddy.indexOf(flag) >= 0 && buddy.indexOf(flag) < buddy.indexOf("-jar"), buddy.toString());
            assertEquals("buddy.jar", buddy.get(buddy.indexOf("-jar") + 1));
            assertFalse(launcher.command(SideBySide.Engine.LLAMA_CPP).contains(flag));
        } finally {
            if (old == null) {
                System.clearProperty(VectorWidth.PROPERTY);
            } else {
                System.setProperty(VectorWidth.PROPERTY, old);
            }
        }
    }

    @Test
    void withoutTheFlagTheBuddyChildPicksItsOwnWidth() {
        String old = System.getProperty(VectorWidth.PROPERTY);
        System.clearProperty(VectorWidth.PROPERTY);
        try {
            List<String> buddy = new ChildLauncher(CONFIG).command(SideBySide.Engine.BUDDY);
            assertTrue(buddy.stream().noneMatch(a -> a.startsWith("-D" + VectorWidth.PROPERTY)), buddy.toString());
        } finally {
            if (old != null) {
                System.setProperty(VectorWidth.PROPERTY, old);
            }
        }
    }
}
