package io.extentflow.daemon;

import io.extentflow.engine.testing.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Waits for a line in a log a peer writes (nbdkit's log filter). */
final class PeerLogs {

    private PeerLogs() {
    }

    /** Waits up to 10 s; on a timeout the message ends with the log's last lines, to show what the peer saw. */
    static void untilContains(Path log, String text) {
        try {
            Await.until(Duration.ofSeconds(10), log + " to contain '" + text + "'",
                    () -> read(log).contains(text));
        } catch (AssertionError e) {
            String[] lines = read(log).split("\n");
            String tail = String.join("\n", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - 20),
                    lines.length));
            throw new AssertionError(e.getMessage() + "; the log ends with:\n" + tail, e);
        }
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
