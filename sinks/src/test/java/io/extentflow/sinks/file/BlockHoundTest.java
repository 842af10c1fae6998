package io.extentflow.sinks.file;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.testing.BlockHoundChecks;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves BlockHound is installed in this module's test JVM: creating a target file on the calling
 * thread is caught on a non-blocking thread, and the same sink opened, written and flushed through
 * its {@code Mono}s from such a thread is not (its system calls run on the file I/O scheduler).
 */
class BlockHoundTest {

    @TempDir
    Path dir;

    @Test
    void openingOnAParallelThreadIsCaught() {
        Path f = dir.resolve("out.raw");
        BlockHoundChecks.caughtOnParallel(() -> RawFileSink.openNow(f, 4096, EndpointOptions.defaults(),
                WritebackWindow.DEFAULT_LIMIT));
    }

    @Test
    void writingThroughTheSinkFromAParallelThreadIsAllowed() throws Exception {
        Path f = dir.resolve("out.raw");
        try (RawFileSink sink = BlockHoundChecks.allowedFromParallel(RawFileSink.open(f, 8192))) {
            ByteBuffer data = ByteBuffer.allocateDirect(4096);
            data.put(0, (byte) 9).put(4095, (byte) 9);
            BlockHoundChecks.allowedFromParallel(sink.write(4096, data).then(sink.flush()));
        }
        byte[] written = Files.readAllBytes(f);
        assertEquals(8192, written.length);
        assertEquals(9, written[4096]);
        assertEquals(9, written[8191]);
        assertEquals(0, written[0]);
    }
}
