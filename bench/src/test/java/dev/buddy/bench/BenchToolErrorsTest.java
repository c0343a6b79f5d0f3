package dev.buddy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A user's mistake on a bench tool's command line: one line naming it and exit code 2, in a real child JVM. */
class BenchToolErrorsTest {
    @TempDir
    static Path tmp;

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            SideBySide   | -m /no/such.gguf                 | SideBySide: file not found: /no/such.gguf
            SideBySide   | -m MODEL -r 0                     | SideBySide: -r needs at least 1 pair, got 0
            SideBySide   | -m MODEL --kv-type q4             | SideBySide: --kv-type is f16 or f32, got 'q4'
            SideBySide   | -m MODEL -t two                   | SideBySide: option -t needs an integer, got 'two'
            DecodeReplay | -m /no/such.gguf                  | DecodeReplay: model file not found: /no/such.gguf
            DecodeReplay | -m MODEL                          | DecodeReplay: MODEL: bad magic 0x6f6e2061, not a GGUF file (expected "GGUF") (at byte offset 0)
            DecodeReplay | -m MODEL -n 0                     | DecodeReplay: -n needs at least 1 step, got 0
            """)
    void printsOneLineAndExitsWithTwo(String tool, String arguments, String expected) throws Exception {
        Path notAModel = tmp.resolve("not-a-model.gguf");
        Files.writeString(notAModel, "a note, not a model");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "dev.buddy.bench." + tool));
        for (String a : arguments.split(" ")) {
            command.add(a.equals("MODEL") ? notAModel.toString() : a);
        }
        Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IOException(tool + " " + arguments + " did not exit");
        }
        List<String> lines = stderr.lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).toList();
        assertEquals(List.of(expected.replace("MODEL", notAModel.toString())), lines, stderr);
        assertEquals(2, process.exitValue(), stderr);
    }
}
