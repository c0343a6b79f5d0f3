package dev.buddy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The jar's Main-Class must load on any JVM and must not pull in a class that needs the Vector API before it has
 * checked for it. Checked on the compiled class file itself, and by starting a JVM without the module.
 */
class BootstrapClassTest {
    private record ClassFile(int major, List<String> classRefs, List<String> utf8) {}

    /** Reads the class-file version and the constant pool (JVMS §4.4). */
    private static ClassFile read(Class<?> c) throws IOException {
        try (InputStream raw = c.getResourceAsStream(c.getSimpleName() + ".class")) {
            assertNotNull(raw, "class file of " + c);
            DataInputStream in = new DataInputStream(raw);
            assertEquals(0xCAFEBABE, in.readInt());
            in.readUnsignedShort(); // minor
            int major = in.readUnsignedShort();
            int count = in.readUnsignedShort();
            String[] utf8 = new String[count];
            List<Integer> classNameIndexes = new ArrayList<>();
            for (int i = 1; i < count; i++) {
                int tag = in.readUnsignedByte();
                switch (tag) {
                    case 1 -> utf8[i] = in.readUTF();
                    case 7 -> classNameIndexes.add(in.readUnsignedShort());
                    case 8, 16, 19, 20 -> in.readUnsignedShort(); // String, MethodType, Module, Package
                    case 3, 4, 9, 10, 11, 12, 17, 18 -> in.readInt(); // Integer, Float, refs, NameAndType, (Invoke)Dynamic
                    case 15 -> { // MethodHandle
                        in.readUnsignedByte();
                        in.readUnsignedShort();
                    }
                    case 5, 6 -> { // Long, Double take two slots
                        in.readLong();
                        i++;
                    }
                    default -> throw new AssertionError("unknown constant pool tag " + tag + " at " + i);
                }
            }
            List<String> classRefs = classNameIndexes.stream().map(i -> utf8[i]).toList();
            List<String> strings = new ArrayList<>();
            for (String s : utf8) {
                if (s != null) {
                    strings.add(s);
                }
            }
            return new ClassFile(major, classRefs, strings);
        }
    }

    @Test
    void mainIsJava8BytecodeThatNamesOnlyJdkClasses() throws IOException {
        ClassFile cf = read(Main.class);
        assertEquals(52, cf.major(), "compiled for Java 8, so an old java can print the version message");
        for (String ref : cf.classRefs()) {
            String element = ref.replaceFirst("^\\[+L?", "").replace(";", "");
            assertTrue(element.equals("dev/buddy/cli/Main") || element.startsWith("java/"),
                    () -> "Main refers to " + ref + "; it may only touch java.* before its checks pass");
        }
        for (String s : cf.utf8()) {
            assertTrue(!s.contains("jdk/incubator") && !s.contains("Ljdk/"), () -> "no jdk.incubator types: " + s);
        }
        assertTrue(cf.utf8().contains(Main.ENTRY_CLASS), "the entry point is named only as a string");
    }

    @Test
    void messagesSayWhatToDo() {
        String old = Main.problem("17", "/usr/lib/jvm/java-17", true, "buddy.jar");
        assertTrue(old.contains("needs Java 25") && old.contains("Java 17") && old.contains("./buddy"), old);
        assertTrue(Main.problem("1.8", "/jre8", false, "buddy.jar").contains("Java 1.8"), "version first");
        String noVector = Main.problem("25", "/jdk25", false, "/opt/buddy.jar");
        assertTrue(noVector.contains("java --add-modules jdk.incubator.vector -jar /opt/buddy.jar"), noVector);
        assertTrue(noVector.contains("./buddy"), noVector);
        assertNull(Main.problem("25", "/jdk25", true, "buddy.jar"));
        assertNull(Main.problem("26", "/jdk26", true, "buddy.jar"));
    }

    @Test
    void featureVersions() {
        assertEquals(8, Main.featureVersion("1.8"));
        assertEquals(17, Main.featureVersion("17"));
        assertEquals(25, Main.featureVersion("25"));
        assertEquals(0, Main.featureVersion(null));
        assertEquals(0, Main.featureVersion("banana"));
    }

    /** A real JVM started the way `java -jar buddy.jar` would be, once without and once with the Vector API module. */
    @Test
    void aJvmWithoutTheVectorModuleGetsInstructionsNotAStackTrace() throws Exception {
        Result without = java(List.of(), "--help");
        assertEquals(Main.EXIT_USAGE, without.exit(), without.err());
        assertTrue(without.err().contains("--add-modules jdk.incubator.vector"), without.err());
        assertTrue(without.err().contains("./buddy"), without.err());
        assertTrue(!without.err().contains("Exception") && !without.err().contains("Error"), without.err());
        assertEquals("", without.out());

        Result with = java(List.of("--add-modules", "jdk.incubator.vector"), "--help");
        assertEquals(0, with.exit(), with.err());
        assertTrue(with.out().startsWith("Buddy "), with.out());
    }

    private record Result(int exit, String out, String err) {}

    private static Result java(List<String> jvmOptions, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-Xshare:auto");
        command.add("-XX:TieredStopAtLevel=1"); // a short-lived JVM; start fast
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM finished");
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }
}
