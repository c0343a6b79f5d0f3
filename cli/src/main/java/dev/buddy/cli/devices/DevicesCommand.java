package dev.buddy.cli.devices;

import java.util.List;

import dev.buddy.cli.Cli;
import dev.buddy.cli.Command;
import dev.buddy.cli.CommandSpec;
import dev.buddy.cli.Io;
import dev.buddy.cli.ParsedArgs;
import dev.buddy.opencl.OpenClDevices;

/** {@code buddy devices}: the OpenCL platforms and devices Buddy can offload to, or why there are none. */
public final class DevicesCommand implements Command {
    private static final CommandSpec SPEC = new CommandSpec("devices",
            "list OpenCL platforms and devices (memory, compute units) for GPU offload",
            """
            Lists every OpenCL platform and device found through libOpenCL (an ICD loader), with global memory,
            compute units and work-group limits; the default device is starred. Without an OpenCL runtime it says so
            in one line, and Buddy runs on the CPU (the Vector API backend).""",
            List.of(), List.of(), List.of("buddy devices"));

    @Override
    public CommandSpec spec() {
        return SPEC;
    }

    @Override
    public int run(ParsedArgs args, Io io) {
        io.out().println(OpenClDevices.describe());
        return Cli.EXIT_OK;
    }
}
