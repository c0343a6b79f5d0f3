package dev.buddy.engine.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * Names the code that allocates while some work runs, for the message of a failed "allocates nothing" assertion: a
 * byte count alone says that something allocates, not what (a CI run once saw 32 MB per five passes that no local
 * run reproduced). Records JFR's TLAB allocation events with their stacks and ranks the first frame outside the
 * JDK by the bytes of the TLABs it opened; those are samples, not totals, but the largest site shows.
 */
final class AllocationSites {
    private AllocationSites() {
    }

    /**
     * The three sites that opened the most TLAB bytes while {@code work} ran (again and again, up to 1,000 times or
     * 64 MB, for at most 30 s), each as "Class.method:line via the JDK frame below it [object type, frame type]
     * (bytes)".
     */
    static String top(Runnable work) {
        Path file = null;
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ObjectAllocationInNewTLAB").withStackTrace();
            recording.enable("jdk.ObjectAllocationOutsideTLAB").withStackTrace();
            recording.start();
            // Events come only when a thread opens a new TLAB, so a small leak needs many runs to show.
            var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long thread = Thread.currentThread().threadId();
            long start = threads.getThreadAllocatedBytes(thread);
            // and at most 30 s: when the allocation that failed the test does not come back (a one-off burst while
            // C2 recompiled something), slow work such as a scalar model's passes would otherwise run 1,000 times
            long deadline = System.nanoTime() + 30_000_000_000L;
            for (int run = 0; run < 1000 && threads.getThreadAllocatedBytes(thread) - start < 64 << 20
                    && System.nanoTime() < deadline; run++) {
                work.run();
            }
            recording.stop();
            file = Files.createTempFile("allocation-sites", ".jfr");
            recording.dump(file);
            Map<String, Long> bytes = new HashMap<>();
            for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
                if (event.getThread() == null || event.getThread().getJavaThreadId() != thread) {
                    continue; // surefire's own threads allocate meanwhile
                }
                long size = event.hasField("tlabSize") ? event.getLong("tlabSize") : event.getLong("allocationSize");
                bytes.merge(site(event), size, Long::sum);
            }
            if (bytes.isEmpty()) {
                return "no TLAB was opened while it ran again";
            }
            return bytes.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(3)
                    .map(e -> e.getKey() + " (" + e.getValue() + " TLAB bytes)").collect(Collectors.joining("; "));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temp file left behind does not change the verdict
                }
            }
        }
    }

    /** The first frame outside java.* and jdk.*, with the frame below it in the JDK (a Vector API fallback, say). */
    private static String site(RecordedEvent event) {
        String type = event.getClass("objectClass").getName();
        if (event.getStackTrace() == null) {
            return type + " from an unknown stack";
        }
        String jdkFrame = null;
        for (RecordedFrame frame : event.getStackTrace().getFrames()) {
            String owner = frame.getMethod().getType().getName();
            String name = owner + "." + frame.getMethod().getName() + ":" + frame.getLineNumber();
            if (owner.startsWith("java.") || owner.startsWith("jdk.")) {
                if (jdkFrame == null) {
                    jdkFrame = name;
                }
                continue;
            }
            return name + (jdkFrame == null ? "" : " via " + jdkFrame) + " [" + type + ", "
                    + frame.getType() + "]";
        }
        return type + " from " + jdkFrame;
    }
}
