package dev.buddy.bench;

import dev.buddy.engine.tensor.VectorWidth;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts each {@link SideBySide} run in a fresh JVM with the flags {@code ./buddy} uses, and reads the child's JSON
 * from its standard output. A failing child's stderr ends up in the exception.
 */
final class ChildLauncher implements SideBySide.Launcher {
    private static final List<String> JVM_FLAGS = List.of("--add-modules", "jdk.incubator.vector",
            "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xmn8m",
            "-Xbatch");

    private final SideBySide.Config config;
    private final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    private final String classPath = System.getProperty("java.class.path");

    ChildLauncher(SideBySide.Config config) {
        this.config = config;
    }

    List<String> command(SideBySide.Engine engine) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(JVM_FLAGS);
        String p = Integer.toString(config.promptTokens());
        String n = Integer.toString(config.generatedTokens());
        String t = Integer.toString(config.threads());
        switch (engine) {
            case BUDDY -> {
                // -Dbuddy.vector.bits=256 on SideBySide pins Buddy to its AVX2 kernels, like llama.cpp's AVX2 build
                String bits = System.getProperty(VectorWidth.PROPERTY);
                if (bits != null) {
                    cmd.add("-D" + VectorWidth.PROPERTY + "=" + bits);
                }
                cmd.addAll(List.of("-jar", config.buddyJar().toString(), "bench", "-m",
                        config.model().toString(), "-p", p, "-n", n, "-r", "1", "-t", t, "--kv-type",
                        config.kvType(), "-o", "json"));
            }
            case LLAMA_CPP -> cmd.addAll(List.of("-cp", classPath, LlamaCppWorker.class.getName(), "-m",
                    config.model().toString(), "-p", p, "-n", n, "-r", "1", "-t", t, "--kv-type", config.kvType()));
            case JVM_BASELINE -> cmd.addAll(List.of("-cp", classPath, LlamaCppWorker.class.getName(), "--baseline"));
        }
        return cmd;
    }

    @Override
    public EngineRun run(SideBySide.Engine engine) throws IOException, InterruptedException {
        Path stderr = Files.createTempFile("buddy-side-by-side-", ".err");
        try {
            Process process = new ProcessBuilder(command(engine)).redirectError(stderr.toFile()).start();
            process.getOutputStream().close();
            String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int exit = process.waitFor();
            if (exit != 0) {
                throw new IOException(engine + " child exited with " + exit + ": "
                        + tail(Files.readString(stderr, StandardCharsets.UTF_8)));
            }
            return EngineRun.fromBenchJson(stdout);
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    private static String tail(String text) {
        String s = text.strip();
        return s.length() > 2000 ? "..." + s.substring(s.length() - 2000) : s;
    }
}
