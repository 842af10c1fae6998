package io.extentflow.sources;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.extentflow.engine.testing.BlockHoundChecks;
import io.extentflow.sources.file.RawFileSource;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves BlockHound is installed in this module's test JVM: opening a file on the calling thread is
 * caught on a non-blocking thread, and the same source opened and read through its {@code Mono}s
 * from such a thread is not (its system calls run on the file I/O scheduler).
 */
class BlockHoundTest {

    @TempDir
    Path dir;

    @Test
    void openingOnAParallelThreadIsCaught() throws Exception {
        Path f = Files.write(dir.resolve("f.raw"), new byte[4096]);
        BlockHoundChecks.caughtOnParallel(() -> RawFileSource.openNow(f, RawFileSource.DEFAULT_WINDOW));
    }

    @Test
    void readingThroughTheSourceFromAParallelThreadIsAllowed() throws Exception {
        byte[] bytes = new byte[4096];
        bytes[100] = 7;
        Path f = Files.write(dir.resolve("f.raw"), bytes);
        try (RawFileSource source = BlockHoundChecks.allowedFromParallel(RawFileSource.open(f))) {
            ByteBuffer target = ByteBuffer.allocateDirect(4096);
            BlockHoundChecks.allowedFromParallel(source.read(0, target));
            byte[] read = new byte[4096];
            target.flip().get(read);
            assertArrayEquals(bytes, read);
        }
    }
}
