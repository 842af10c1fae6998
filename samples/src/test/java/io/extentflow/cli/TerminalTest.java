package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.ExternalTool;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the command does on a terminal, run on a pseudo-terminal by {@code script}. */
class TerminalTest {

    @TempDir
    Path dir;

    @Test
    void aSparseStreamIsNotWrittenOntoATerminal() throws Exception {
        Path src = dir.resolve("src.raw");
        try (RandomAccessFile f = new RandomAccessFile(src.toFile(), "rw")) {
            f.setLength(1 << 20);
            f.write(new byte[] {1, 2, 3});
        }
        ExternalTool.Result r = onTerminal("copy '" + src + "' -");
        assertEquals(ExitCodes.FAILURE, r.exitCode(), r.toString());
        String screen = r.stdout().replace("\r", "");
        assertTrue(screen.contains("extentflow: refusing to write a sparse stream to a terminal"), screen);
        assertFalse(screen.contains("\u0000"), "nothing binary on the terminal: " + screen);
    }

    /** Runs {@code extentflow ARGS} (shell words) with a pseudo-terminal as its standard input, output and error. */
    static ExternalTool.Result onTerminal(String args) {
        ExternalTool.require("script");
        return ExternalTool.run("script", "-qec", Cli.shellCommand() + " " + args, "/dev/null");
    }
}
