package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.List;
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

    @Test
    void theProgressBarKeepsItsWidthAndShowsRateAndTimeLeftFromTheFirstUpdate() throws Exception {
        // 32 MiB served at 8 MB/s: four seconds, a score of redraws
        Path dst = dir.resolve("out.raw");
        try (NbdServers servers = new NbdServers()) {
            var source = servers.nbdkit(dir, "-t", "1", "--filter=rate", "random", "32M", "rate=64M");
            ExternalTool.Result r = onTerminal("copy --max-in-flight 4M '" + source.uri() + "' '" + dst + "'");
            assertEquals(0, r.exitCode(), r.toString());
            // frames are drawn over each other with \r; the summary follows on its own line
            List<String> frames = java.util.Arrays.stream(r.stdout().split("[\r\n]+"))
                    .filter(f -> f.startsWith("copy ")).toList();
            assertTrue(frames.size() >= 5, () -> "several redraws expected: " + frames);
            int width = frames.get(0).length();
            for (String f : frames) {
                assertEquals(width, f.length(), () -> "steady width: " + frames);
            }
            List<String> updated = frames.stream().filter(f -> !f.contains("  0% ")).toList();
            assertFalse(updated.isEmpty(), frames::toString);
            for (String f : updated) {
                assertTrue(f.matches(".*[0-9.]+ [KMGT]?i?B/s.*"), () -> "a rate in every frame after the first "
                        + "update: " + f);
                boolean complete = f.contains("100% ");
                assertTrue(f.matches(".*\\d+:\\d\\d:\\d\\d left.*") && (complete || !f.contains("0:00:00 left")),
                        () -> "time left in every frame after the first update: " + f);
            }
        }
    }

    /** Runs {@code extentflow ARGS} (shell words) with a pseudo-terminal as its standard input, output and error. */
    static ExternalTool.Result onTerminal(String args) {
        ExternalTool.require("script");
        return ExternalTool.run("script", "-qec", Cli.shellCommand() + " " + args, "/dev/null");
    }
}
