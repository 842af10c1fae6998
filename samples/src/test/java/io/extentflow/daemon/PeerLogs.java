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

    static void untilContains(Path log, String text) {
        Await.until(Duration.ofSeconds(10), log + " to contain '" + text + "'", () -> {
            try {
                return Files.exists(log) && Files.readString(log).contains(text);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
