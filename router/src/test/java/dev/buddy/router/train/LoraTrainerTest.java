package dev.buddy.router.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;

import dev.buddy.router.lora.LoraAdapters;
import dev.buddy.router.lora.LoraConfig;
import dev.buddy.router.lora.LoraFile;
import dev.buddy.router.lora.LoraLayer;
import dev.buddy.router.lora.LoraTarget;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train-router --lora} on a small synthetic model: the adapters are written beside the router and trained
 * (B leaves zero); a fixed seed repeats bit for bit; an interrupted run resumed from its checkpoint (adapters and
 * their optimiser state included) ends bit-identical to an uninterrupted one; a resume that adds, drops or changes
 * LoRA is refused.
 */
class LoraTrainerTest {
    /** JUnit deletes it after {@code @AfterAll} has closed the mapped model, so no run leaves files in /tmp. */
    @TempDir
    static Path dir;
    private static FrozenModel model;
    private static TrainingData data;

    @BeforeAll
    static void setUp() throws IOException {
        SyntheticModel shape = new SyntheticModel("llama", 5, 32, 4, 2, 8, 64, 40, false, dev.buddy.gguf.GgmlType.F32);
        model = FrozenModel.open(shape.write(dir, 7));
        data = ListData.random(11, 40, 12, 40, 4);
    }

    @AfterAll
    static void tearDown() {
        model.close();
    }

    private static TrainConfig config() {
        return TrainConfig.defaults(6).withOptimizer(1e-2, 2, 3).withMaxTokens(12).withThreads(2)
                .withCheckpointEvery(2).withSeed(5);
    }

    private static LoraConfig lora() {
        return new LoraConfig(4, 8f, EnumSet.allOf(LoraTarget.class), 5e-3);
    }

    private static float[] adapters(Path router) throws IOException {
        return LoraFile.read(LoraFile.besideRouter(router), model.spec(), model.baseInfo().fingerprint()).params();
    }

    @Test
    void adaptersAreTrainedAndWrittenBesideTheRouter(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("r.gguf");
        RouterTrainer.train(model, data, config(), Prior.none(3), out, false, null, lora());
        assertEquals(tmp.resolve("r.lora.gguf"), LoraFile.besideRouter(out));
        LoraAdapters trained = LoraFile.read(LoraFile.besideRouter(out), model.spec(), model.baseInfo().fingerprint());
        LoraAdapters start = LoraAdapters.initial(model.spec(), lora(), 0);
        // Every block's adapters moved: B started at zero, and the backward pass reaches blocks 0 and 1 as well.
        for (int b = 0; b < model.spec().blockCount(); b++) {
            LoraLayer l = trained.layer(b, LoraTarget.DOWN);
            double norm = 0;
            for (int i = 0; i < l.rank() * l.outputs(); i++) {
                norm += Math.abs(trained.params()[l.bOffset() + i]);
            }
            assertTrue(norm > 0, "block " + b + "'s ffn_down adapter B is still zero");
        }
        assertEquals(start.params().length, trained.params().length);
    }

    @Test
    void sameSeedGivesBitIdenticalAdapters(@TempDir Path tmp) throws IOException {
        var a = RouterTrainer.train(model, data, config(), Prior.none(3), tmp.resolve("a.gguf"), false, null, lora());
        var b = RouterTrainer.train(model, data, config(), Prior.none(3), tmp.resolve("b.gguf"), false, null, lora());
        assertArrayEquals(adapters(tmp.resolve("a.gguf")), adapters(tmp.resolve("b.gguf")));
        assertArrayEquals(a.stepLosses(), b.stepLosses());
        var plain = RouterTrainer.train(model, data, config(), Prior.none(3), tmp.resolve("c.gguf"), false, null);
        assertFalse(java.util.Arrays.equals(a.stepLosses(), plain.stepLosses()),
                "training with adapters must differ from training without");
        assertEquals(a.stepLosses()[0], plain.stepLosses()[0], 0.0,
                "fresh adapters (B = 0) must give the first step's loss of a run without them");
    }

    @Test
    void resumedRunEndsBitIdenticalToAnUninterruptedOne(@TempDir Path tmp) throws IOException {
        Prior prior = new Prior("taylor", new float[] {0.5f, -1.2f, 0.7f});
        Path whole = tmp.resolve("whole.gguf");
        var straight = RouterTrainer.train(model, data, config(), prior, whole, false, null, lora());
        Path split = tmp.resolve("split.gguf");
        RouterTrainer.train(model, data, config(), prior, split, false, null, 3, lora());
        // A different thread count must not matter: every output element of the adapters' products has one thread.
        var resumed = RouterTrainer.train(model, data, config().withThreads(1), prior, split, true, null, lora());
        assertEquals(3, resumed.firstStep());
        assertArrayEquals(adapters(whole), adapters(split));
        assertArrayEquals(straight.stepLosses(), resumed.stepLosses());
        assertArrayEquals(Files.readAllBytes(whole), Files.readAllBytes(split), "router files differ");
    }

    @Test
    void resumeThatChangesLoraIsRefused(@TempDir Path tmp) throws IOException {
        Path withLora = tmp.resolve("l.gguf");
        RouterTrainer.train(model, data, config(), Prior.none(3), withLora, false, null, 2, lora());
        CheckpointException dropped = assertThrows(CheckpointException.class, () -> RouterTrainer.train(model, data,
                config(), Prior.none(3), withLora, true, null));
        assertTrue(dropped.getMessage().contains("lora"), dropped.getMessage());
        CheckpointException changed = assertThrows(CheckpointException.class, () -> RouterTrainer.train(model, data,
                config(), Prior.none(3), withLora, true, null, LoraConfig.of(2)));
        assertTrue(changed.getMessage().contains("lora"), changed.getMessage());
        Path without = tmp.resolve("p.gguf");
        RouterTrainer.train(model, data, config(), Prior.none(3), without, false, null, 2);
        CheckpointException added = assertThrows(CheckpointException.class, () -> RouterTrainer.train(model, data,
                config(), Prior.none(3), without, true, null, lora()));
        assertTrue(added.getMessage().contains("lora"), added.getMessage());
    }
}
