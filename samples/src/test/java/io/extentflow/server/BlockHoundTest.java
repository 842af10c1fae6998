package io.extentflow.server;

import io.extentflow.engine.testing.BlockHoundChecks;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.HttpResources;

/**
 * Proves BlockHound is installed in this module's test JVM and watches the threads the image
 * server's requests run on: Reactor Netty's event loops. A positional file read, as a handler that
 * forgot the file I/O scheduler would make, is caught there.
 */
class BlockHoundTest {

    @Test
    void aFileReadOnTheServersEventLoopIsCaught(@TempDir Path dir) throws Exception {
        Path f = Files.write(dir.resolve("f"), new byte[4096]);
        Scheduler loop = Schedulers.fromExecutor(HttpResources.get().onServer(true).next());
        try (FileChannel ch = FileChannel.open(f)) {
            BlockHoundChecks.caughtOn(loop, () -> ch.read(ByteBuffer.allocate(16), 0));
        }
    }

    @Test
    void sleepingOnAParallelThreadIsCaught() {
        BlockHoundChecks.caughtOnParallel(() -> {
            Thread.sleep(1);
            return null;
        });
    }
}
