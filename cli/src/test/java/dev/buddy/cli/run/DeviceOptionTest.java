package dev.buddy.cli.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.buddy.cli.CliRun;
import dev.buddy.gguf.TestData;
import dev.buddy.opencl.OpenCl;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code --device}: the OpenCL backend through {@code buddy generate} gives the CPU backend's text, and with a router
 * the same blocks per token; without OpenCL, asking for it is one line and exit 2.
 */
class DeviceOptionTest {
    private static final String PROMPT = "Once upon a time";

    @Test
    void greedyTextIsIdenticalOnOpenClForBothKvTypes() {
        Path model = TestData.require("models/stories260K.gguf");
        requireOpenCl();
        for (String kv : List.of("f16", "f32")) {
            CliRun cpu = generate(model, "cpu", "--kv-type", kv);
            CliRun device = generate(model, "opencl", "--kv-type", kv);
            assertEquals(0, cpu.exit(), cpu.err());
            assertEquals(0, device.exit(), device.err());
            assertTrue(device.err().contains("OpenCL device "), device.err());
            assertTrue(cpu.out().length() > PROMPT.length() + 40, "too little text: " + cpu.out());
            assertEquals(cpu.out(), device.out(), kv + " KV: greedy text differs between cpu and opencl");
        }
    }

    @Test
    void routedGenerationRunsTheSameBlocksAndTokensOnOpenCl() {
        Path model = TestData.require("models/stories260K.gguf");
        requireOpenCl();
        String[] routing = {"--router", "random", "--budget", "0.6", "--route-trace"};
        CliRun cpu = generate(model, "cpu", routing);
        CliRun device = generate(model, "opencl", routing);
        assertEquals(0, cpu.exit(), cpu.err());
        assertEquals(0, device.exit(), device.err());
        assertEquals(cpu.out(), device.out(), "routed greedy text differs between cpu and opencl");
        List<String> cpuTrace = trace(cpu.err());
        assertTrue(cpuTrace.size() > 20, "expected a trace line per token: " + cpu.err());
        assertTrue(cpuTrace.stream().anyMatch(l -> l.contains("·")), "b=0.6 must skip blocks: " + cpu.err());
        assertEquals(cpuTrace, trace(device.err()), "blocks run per token differ between cpu and opencl");
        assertEquals(summary(cpu.err()), summary(device.err()));
    }

    /**
     * --profile counts what the timed runs launched: one embedding lookup per pass (a prompt is one pass, a generated
     * token another), and the device can be busy for no longer than the wall time of the same runs.
     */
    @Test
    void profiledBenchCountsEveryLaunchOfTheTimedRuns() {
        Path model = TestData.require("models/stories260K.gguf");
        requireOpenCl();
        CliRun r = CliRun.run("bench", "-m", model.toString(), "-p", "16", "-n", "6", "-r", "3", "--device", "opencl",
                "--profile");
        assertEquals(0, r.exit(), r.err());
        List<String> headers = r.err().lines().filter(l -> l.startsWith("profile ")).toList();
        assertEquals(2, headers.size(), r.err());
        assertTrue(headers.get(0).startsWith("profile pp16: device busy "), headers.get(0));
        assertTrue(headers.get(1).startsWith("profile tg6: device busy "), headers.get(1));
        for (String h : headers) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("busy ([0-9.]+) ms of ([0-9.]+) ms wall")
                    .matcher(h);
            assertTrue(m.find(), h);
            assertTrue(Double.parseDouble(m.group(1)) <= Double.parseDouble(m.group(2)), h);
        }
        List<Long> lookups = r.err().lines().map(String::strip).filter(l -> l.startsWith("get_rows_"))
                .map(l -> Long.parseLong(l.split("\\s+")[1].replace(",", ""))).toList();
        assertEquals(List.of(3L, 3L * 6), lookups, r.err());
    }

    @Test
    void profilingTheCpuBackendIsAUsageError() {
        Path model = TestData.require("models/stories260K.gguf");
        CliRun.run("bench", "-m", model.toString(), "-p", "8", "-n", "0", "--profile")
                .assertUserError("--profile times OpenCL kernels", "--device opencl");
    }

    @Test
    void anUnknownDeviceIsAUsageError() {
        Path model = TestData.require("models/stories260K.gguf");
        CliRun.run("generate", "-m", model.toString(), "-n", "4", "--device", "gpu")
                .assertUserError("invalid --device 'gpu'", "opencl");
    }

    @Test
    void askingForOpenClWithoutALibraryIsOneLineAndExitTwo() throws IOException, InterruptedException {
        Path model = TestData.require("models/stories260K.gguf");
        for (List<String> command : List.of(
                List.of("generate", "-m", model.toString(), "-n", "4", "--device", "opencl"),
                List.of("bench", "-m", model.toString(), "-p", "8", "-n", "4", "-r", "1", "--device", "opencl:0"))) {
            String java = ProcessHandle.current().info().command().orElseThrow();
            List<String> cmd = new java.util.ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED", "-Dbuddy.opencl.library=/nonexistent/libOpenCL.so.1",
                    "-cp", System.getProperty("java.class.path"), "dev.buddy.cli.Cli"));
            cmd.addAll(command);
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child JVM did not finish");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            List<String> lines = err.lines().filter(l -> !l.startsWith("WARNING: Using incubator modules")).toList();
            assertEquals(2, p.exitValue(), err);
            assertEquals("", out.strip(), "nothing generated without the device");
            assertEquals(1, lines.size(), "one line on stderr: " + err);
            assertTrue(lines.getFirst().startsWith("buddy " + command.getFirst() + ": --device opencl"), err);
            assertTrue(lines.getFirst().contains("no OpenCL library found"), err);
            assertFalse(err.contains("\tat "), err);
        }
    }

    private static CliRun generate(Path model, String device, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "-m", model.toString(), "-p", PROMPT, "-n",
                "40", "--temp", "0", "-t", "2", "--device", device));
        args.addAll(List.of(extra));
        return CliRun.run(args.toArray(String[]::new));
    }

    /** The per-token lines of --route-trace: which blocks ran (█) or were skipped (·). */
    private static List<String> trace(String err) {
        return err.lines().filter(l -> l.contains("█")).toList();
    }

    /** The routing summary's block counts, without its timing share. */
    private static String summary(String err) {
        return err.lines().filter(l -> l.startsWith("routing: ")).map(l -> l.replaceAll(", router .*", ""))
                .findFirst().orElse("no routing summary in: " + err);
    }

    private static void requireOpenCl() {
        OpenCl.Availability a = OpenCl.availability();
        if (!a.available()) {
            assertFalse(TestData.inCi(), "OpenCL must be available in CI: " + a.reason());
            Assumptions.abort("OpenCL unavailable: " + a.reason());
        }
    }
}
