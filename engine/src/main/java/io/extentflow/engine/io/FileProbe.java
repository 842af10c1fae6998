package io.extentflow.engine.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Checks a path before opening it, so a user gets "No such file" or "is a directory" instead of an
 * errno buried in a stack trace. Blocking: call on {@link BlockingIo#scheduler()}.
 */
public final class FileProbe {

    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFCHR = 0020000;

    private FileProbe() {
    }

    /** Throws an {@link IOException} with a plain message unless {@code path} is a readable file or device. */
    public static void requireReadable(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "no such file");
        }
        if (Files.isDirectory(path)) {
            throw new IOException(path + ": is a directory, not a disk image");
        }
        if (!Files.isReadable(path)) {
            throw new AccessDeniedException(path.toString(), null, "permission denied");
        }
    }

    /** True if {@code path} is a block device (following a symbolic link). */
    public static boolean isBlockDevice(Path path) throws IOException {
        return fileType(path) == S_IFBLK;
    }

    /** True if {@code path} is a character device such as {@code /dev/null} (following a symbolic link). */
    public static boolean isCharacterDevice(Path path) throws IOException {
        return fileType(path) == S_IFCHR;
    }

    private static int fileType(Path path) throws IOException {
        return Files.getAttribute(path, "unix:mode") instanceof Integer m ? m & S_IFMT : 0;
    }
}
