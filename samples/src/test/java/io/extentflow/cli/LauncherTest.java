package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.ExternalTool;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code extentflow} launcher script: the seconds it spends training the start-up cache are
 * announced on a terminal, and only there.
 */
class LauncherTest {

    private static final String NOTICE = "extentflow: preparing the start-up cache (once";

    @TempDir
    Path dir;

    @Test
    void theStartUpCacheTrainingIsAnnouncedOnATerminalOnly() throws Exception {
        // A copy of the launcher beside a stand-in jar: no sources, so nothing to build; the training
        // and the command fail on the stand-in, which is not what this test looks at.
        Path launcher = Path.of(System.getProperty("user.dir")).getParent().resolve("extentflow");
        assertTrue(Files.isRegularFile(launcher), launcher::toString);
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.copy(launcher, root.resolve("extentflow"));
        Files.createDirectories(root.resolve("samples/target"));
        Files.writeString(root.resolve("samples/target/extentflow.jar"), "a stand-in, not a jar");
        String command = "JAVA_HOME=" + System.getProperty("java.home") + " bash " + root.resolve("extentflow")
                + " info x.raw";

        ExternalTool.Result piped = ExternalTool.run("bash", "-c", command + " 2>&1 | cat");
        assertFalse(piped.stdout().contains(NOTICE), piped::toString);

        ExternalTool.require("script");
        ExternalTool.Result onTerminal = ExternalTool.run("script", "-qec", command, "/dev/null");
        assertTrue(onTerminal.stdout().contains(NOTICE), onTerminal::toString);
        assertEquals(1, onTerminal.stdout().split(java.util.regex.Pattern.quote(NOTICE), -1).length - 1,
                onTerminal::toString);
    }
}
