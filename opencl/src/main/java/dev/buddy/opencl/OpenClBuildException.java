package dev.buddy.opencl;

/** A program failed to compile; the compiler's build log is part of the message and available on its own. */
public final class OpenClBuildException extends OpenClException {
    private final String buildLog;

    public OpenClBuildException(int status, String programName, String buildLog) {
        super("clBuildProgram", status, "building " + programName + ":\n" + buildLog);
        this.buildLog = buildLog;
    }

    public String buildLog() {
        return buildLog;
    }
}
