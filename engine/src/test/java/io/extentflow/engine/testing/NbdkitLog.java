package io.extentflow.engine.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The file nbdkit's log filter writes ({@code --filter=log logfile=FILE}): a line per connection
 * event ({@code connection=1 Connect ...}, {@code connection=1 Disconnect ...}) and per request, read
 * while the server may still be writing it.
 */
public final class NbdkitLog {

    private NbdkitLog() {
    }

    /** Its lines so far; none before nbdkit has created it. */
    public static List<String> lines(Path log) {
        try {
            return Files.exists(log) ? Files.readAllLines(log) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The lines so far that contain {@code event}, e.g. {@code " Connect "}: one per connection. */
    public static long count(Path log, String event) {
        return lines(log).stream().filter(l -> l.contains(event)).count();
    }
}
