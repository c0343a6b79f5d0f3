package dev.buddy.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * The jar's Main-Class: checks that this JVM can run Buddy, then hands over to {@code dev.buddy.cli.Cli}.
 *
 * <p>WHY a separate class: {@code java -jar buddy.jar} without {@code --add-modules jdk.incubator.vector} would
 * otherwise die with a NoClassDefFoundError the first time a kernel class loads, and an older {@code java} would die
 * with an UnsupportedClassVersionError before printing anything. So this class is compiled for Java 8 (see the
 * {@code bootstrap-compile} execution in cli/pom.xml), names no other project class in its constant pool, and
 * reaches the real entry point only by reflection, after both checks pass. Keep it that way: Java 8 language level and
 * {@code java.*} classes only (BootstrapClassTest checks the constant pool).
 */
public final class Main {
    /** The first Java feature release Buddy runs on. */
    static final int REQUIRED_JAVA = 25;
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    static final String ENTRY_CLASS = "dev.buddy.cli.Cli";
    static final int EXIT_USAGE = 2;

    private Main() {}

    public static void main(String[] args) throws Throwable {
        String problem = problem(System.getProperty("java.specification.version"), System.getProperty("java.home"),
                hasVectorModule(), jarPath());
        if (problem != null) {
            System.err.println(problem);
            System.exit(EXIT_USAGE);
            return;
        }
        Method entry = Class.forName(ENTRY_CLASS).getMethod("main", String[].class);
        try {
            entry.invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause(); // Cli.main handles its own errors; anything left is a JVM-level failure
        }
    }

    /**
     * What stops this JVM from running Buddy, as a message for the user, or {@code null} when nothing does.
     *
     * @param specVersion the {@code java.specification.version} property: "1.8", "17", "25", ...
     * @param javaHome the {@code java.home} property, shown so the user knows which JVM was picked up
     * @param vectorModulePresent whether {@code jdk.incubator.vector} is in the boot layer
     * @param jar the path of the running jar, for the command line the message suggests
     */
    static String problem(String specVersion, String javaHome, boolean vectorModulePresent, String jar) {
        int feature = featureVersion(specVersion);
        if (feature < REQUIRED_JAVA) {
            return "buddy: needs Java " + REQUIRED_JAVA + " or newer, but this is Java " + specVersion
                    + " (" + javaHome + "). Use ./buddy, which finds a JDK " + REQUIRED_JAVA
                    + ", or set JAVA_HOME to one (Temurin " + REQUIRED_JAVA + " works).";
        }
        if (!vectorModulePresent) {
            return "buddy: the Vector API module is missing. Run it as\n"
                    + "  java --add-modules " + VECTOR_MODULE + " -jar " + jar + " ARGS...\n"
                    + "or use ./buddy ARGS..., which does that for you.";
        }
        return null;
    }

    /** Where this class was loaded from when that is a jar, else the jar's usual name. */
    private static String jarPath() {
        try {
            String path = new java.io.File(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .getPath();
            return path.endsWith(".jar") ? path : "buddy.jar";
        } catch (Exception e) { // no code source (custom class loader) or a non-file URL: fall back to the name
            return "buddy.jar";
        }
    }

    /** "1.8" -> 8, "17" -> 17; anything unparsable counts as too old, which yields the version message. */
    static int featureVersion(String specVersion) {
        if (specVersion == null) {
            return 0;
        }
        String s = specVersion.startsWith("1.") ? specVersion.substring(2) : specVersion;
        int end = 0;
        while (end < s.length() && Character.isDigit(s.charAt(end))) {
            end++;
        }
        try {
            return end == 0 ? 0 : Integer.parseInt(s.substring(0, end));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /**
     * {@code ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()}, written reflectively because this
     * class is compiled for Java 8, where ModuleLayer does not exist. Only called on Java 25+.
     */
    private static boolean hasVectorModule() {
        try {
            Class<?> layerClass = Class.forName("java.lang.ModuleLayer");
            Object bootLayer = layerClass.getMethod("boot").invoke(null);
            Object optionalModule = layerClass.getMethod("findModule", String.class).invoke(bootLayer, VECTOR_MODULE);
            return (Boolean) optionalModule.getClass().getMethod("isPresent").invoke(optionalModule);
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }
}
