package io.extentflow.sinks.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks shared by the sinks that write a local file: what a target path must not be. */
public final class TargetPath {

    private TargetPath() {
    }

    /**
     * Fails with one line unless {@code path} can be a file to write: it is no directory, and the
     * directory it would be in exists. Blocking.
     */
    public static void check(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            throw new IOException(path + ": is a directory, not a disk image");
        }
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new IOException(path + ": directory " + parent + " does not exist");
        }
    }
}
