package io.extentflow.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

class BlockingIoTest {

    @Test
    void runsOnTheNamedBoundedScheduler() {
        String name = BlockingIo.call(() -> Thread.currentThread().getName()).block(Duration.ofSeconds(10));
        assertTrue(name.startsWith("extentflow-file-io"), name);
    }

    @Test
    void cancellingARunningCallDoesNotInterruptItSoTheFileStaysOpen(@TempDir Path dir) throws Exception {
        Path f = Files.write(dir.resolve("f"), new byte[8192]);
        try (FileChannel ch = FileChannel.open(f)) {
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch proceed = new CountDownLatch(1);
            CountDownLatch finished = new CountDownLatch(1);
            AtomicInteger read = new AtomicInteger(-1);
            Disposable d = BlockingIo.run(() -> {
                started.countDown();
                proceed.await();
                try {
                    read.set(ch.read(ByteBuffer.allocate(4096), 0));
                } finally {
                    finished.countDown();
                }
            }).subscribe();
            assertTrue(started.await(10, TimeUnit.SECONDS));
            d.dispose();
            proceed.countDown();
            assertTrue(finished.await(10, TimeUnit.SECONDS));
            assertEquals(4096, read.get(), "the read was interrupted");
            assertTrue(ch.isOpen(), "cancelling closed the channel");
        }
    }

    @Test
    void aCallCancelledBeforeItStartsNeverRuns() throws Exception {
        CountDownLatch block = new CountDownLatch(1);
        AtomicInteger ran = new AtomicInteger();
        // occupy every thread, then queue one more call and cancel it
        Disposable[] busy = new Disposable[BlockingIo.THREADS];
        CountDownLatch allBusy = new CountDownLatch(BlockingIo.THREADS);
        for (int i = 0; i < busy.length; i++) {
            busy[i] = BlockingIo.run(() -> {
                allBusy.countDown();
                block.await();
            }).subscribe();
        }
        assertTrue(allBusy.await(10, TimeUnit.SECONDS));
        Disposable queued = BlockingIo.run(ran::incrementAndGet).subscribe();
        queued.dispose();
        block.countDown();
        // a call queued after the cancelled one runs, so the cancelled one had its turn and was skipped
        BlockingIo.run(() -> { }).block(Duration.ofSeconds(10));
        for (int i = 0; i < BlockingIo.THREADS; i++) {
            BlockingIo.run(() -> { }).block(Duration.ofSeconds(10));
        }
        assertEquals(0, ran.get());
    }
}
