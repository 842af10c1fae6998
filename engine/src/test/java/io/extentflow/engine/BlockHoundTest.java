package io.extentflow.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.Posix;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** Proves BlockHound is installed in this JVM and sees the blocking calls this project makes. */
class BlockHoundTest {

    @Test
    void sleepOnParallelThreadIsCaught() {
        StepVerifier.create(Mono.fromCallable(() -> {
            Thread.sleep(1);
            return 1;
        }).subscribeOn(Schedulers.parallel()))
                .expectError(BlockingOperationError.class)
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void positionalFileReadOnParallelThreadIsCaught(@TempDir Path dir) throws Exception {
        Path f = Files.write(dir.resolve("f"), new byte[4096]);
        try (FileChannel ch = FileChannel.open(f)) {
            StepVerifier.create(Mono.fromCallable(() -> ch.read(ByteBuffer.allocate(16), 0))
                            .subscribeOn(Schedulers.parallel()))
                    .expectError(BlockingOperationError.class)
                    .verify(Duration.ofSeconds(10));
        }
    }

    @Test
    void ffmLseekOnParallelThreadIsCaught(@TempDir Path dir) throws Exception {
        Path f = Files.write(dir.resolve("f"), new byte[4096]);
        int fd = Posix.open(f.toString(), Posix.O_RDONLY, 0);
        try {
            StepVerifier.create(Mono.fromCallable(() -> Posix.lseek(fd, 0, Posix.SEEK_DATA))
                            .subscribeOn(Schedulers.parallel()))
                    .expectError(BlockingOperationError.class)
                    .verify(Duration.ofSeconds(10));
            // the same call is allowed on the file I/O scheduler
            assertEquals(0L, BlockingIo.call(() -> Posix.lseek(fd, 0, Posix.SEEK_DATA)).block());
        } finally {
            Posix.close(fd);
        }
    }
}
