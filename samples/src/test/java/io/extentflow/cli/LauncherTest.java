package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.ExternalTool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code extentflow} launcher script: the seconds it spends training the start-up cache are
 * announced on a terminal, and only there; a copy's heap is sized from its bytes in flight; a daemon
 * can be given another cache, or none.
 */
class LauncherTest {

    private static final String NOTICE = "extentflow: preparing the start-up cache (once";

    @TempDir
    Path dir;

    @Test
    void theStartUpCacheTrainingIsAnnouncedOnATerminalOnly() throws Exception {
        String command = "JAVA_HOME=" + System.getProperty("java.home") + " bash " + standInLauncher()
                + " info x.raw";

        ExternalTool.Result piped = ExternalTool.run("bash", "-c", command + " 2>&1 | cat");
        assertFalse(piped.stdout().contains(NOTICE), piped::toString);

        ExternalTool.require("script");
        ExternalTool.Result onTerminal = ExternalTool.run("script", "-qec", command, "/dev/null");
        assertTrue(onTerminal.stdout().contains(NOTICE), onTerminal::toString);
        assertEquals(1, onTerminal.stdout().split(Pattern.quote(NOTICE), -1).length - 1,
                onTerminal::toString);
    }

    /**
     * A stand-in start-up cache of {@code kind} newer than the jar: the launcher then trains none
     * (seconds each), and the JVM ignores a bad cache.
     */
    private static Path standInCache(Path launcher, String kind) throws Exception {
        Path cache = launcher.resolveSibling("samples/target/extentflow-" + kind + ".aot");
        Files.writeString(cache, "a stand-in, not a cache");
        Files.setLastModifiedTime(cache, FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        return cache;
    }

    @Test
    void aCopysHeapIsSixtyFourMibPlusTheBytesInFlightWithAnEightMibYoungGeneration() throws Exception {
        Path launcher = standInLauncher();
        standInCache(launcher, "local");
        String defaults = flags(launcher, "copy a.raw b.raw");
        assertEquals(96L << 20, flag(defaults, "MaxHeapSize"));
        assertEquals(16L << 20, flag(defaults, "InitialHeapSize"));
        assertEquals(8L << 20, flag(defaults, "MaxNewSize"));
        assertEquals(96L << 20, flag(defaults, "MaxDirectMemorySize"));
        assertEquals(128L << 20, flag(flags(launcher, "copy --max-in-flight 64MiB a.raw b.raw"), "MaxHeapSize"));
        assertEquals((64L << 20) + (1L << 30), flag(flags(launcher, "copy --max-in-flight=1G a.raw b.raw"), "MaxHeapSize"));
    }

    @Test
    void aDaemonTakesAnotherStartUpCacheOrNoneWhenTold() throws Exception {
        Path launcher = standInLauncher();
        Path cache = standInCache(launcher, "full");
        assertEquals(cache.toString(), aotCache(flags(launcher, "", "serve")));
        // perf/fleet.sh AOT=trained: a cache recorded by a daemon's run, and none while recording one
        Path other = dir.resolve("trained.aot");
        assertEquals(other.toString(), aotCache(flags(launcher, "EXTENTFLOW_AOT_CACHE=" + other, "serve")));
        assertEquals("", aotCache(flags(launcher, "EXTENTFLOW_AOT_CACHE=none", "serve")));
    }

    /**
     * A copy of the launcher beside a stand-in jar: no sources, so nothing to build; the training and
     * the command fail on the stand-in, which is not what these tests look at.
     */
    private Path standInLauncher() throws Exception {
        Path launcher = Path.of(System.getProperty("user.dir")).getParent().resolve("extentflow");
        assertTrue(Files.isRegularFile(launcher), launcher::toString);
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.copy(launcher, root.resolve("extentflow"), StandardCopyOption.REPLACE_EXISTING);
        Files.createDirectories(root.resolve("samples/target"));
        // a jar with a manifest and no classes: the JVM starts (and prints its flags), then fails
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "StandIn");
        try (JarOutputStream jar = new JarOutputStream(
                Files.newOutputStream(root.resolve("samples/target/extentflow.jar")), manifest)) {
            jar.flush();
        }
        return root.resolve("extentflow");
    }

    /** The JVM's flags as the launcher sets them for {@code arguments} (-XX:+PrintFlagsFinal). */
    private static String flags(Path launcher, String arguments) {
        return flags(launcher, "", arguments);
    }

    /** {@link #flags(Path, String)} with more of the launcher's environment ({@code NAME=value ...}). */
    private static String flags(Path launcher, String environment, String arguments) {
        return ExternalTool.run("bash", "-c", "JAVA_HOME=" + System.getProperty("java.home") + " " + environment
                + " EXTENTFLOW_JAVA_OPTS=-XX:+PrintFlagsFinal bash " + launcher + " " + arguments + " 2>&1").stdout();
    }

    /** The value of -XX:AOTCache in {@code flags}, empty when none was given. */
    private static String aotCache(String flags) {
        Matcher m = Pattern.compile("\\sAOTCache\\s+= (\\S*)").matcher(flags);
        assertTrue(m.find(), () -> "AOTCache not in the output: " + flags);
        return m.group(1);
    }

    private static long flag(String flags, String name) {
        Matcher m = Pattern.compile("\\s" + name + "\\s+=\\s+(\\d+)").matcher(flags);
        assertTrue(m.find(), () -> name + " not in the output: " + flags);
        return Long.parseLong(m.group(1));
    }
}
