package io.extentflow.sources.file;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClient;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.nbd.server.NbdExport;
import io.extentflow.engine.nbd.server.NbdServer;
import io.extentflow.engine.nbd.server.NbdServerConfig;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.PageCache;
import io.extentflow.engine.testing.RandomReads;
import io.extentflow.engine.testing.TestImages;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The NBD server over a raw file, whose READs of cached data are served on the event loop
 * ({@link io.extentflow.engine.capability.CachedReads}) and wait for the socket to take more: every byte
 * is right whether the file is in the page cache, out of it, or every other 64 KiB of it; a client gone
 * with READs waiting leaves no buffer or budget behind.
 */
@ExtendWith(NettyLeaks.class)
class RawFileNbdServerTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final long SIZE = 64L << 20;

    @TempDir
    Path dir;

    private NbdServer server;
    private RawFileSource source;

    @AfterEach
    void stop() {
        if (server != null) {
            server.shutdown(WAIT).block(WAIT);
        }
        if (source != null) {
            source.close();
        }
    }

    private NbdClient serve(Path image) {
        source = RawFileSource.open(image).block(WAIT);
        server = NbdServer.start(NbdServerConfig.defaults().withSocket(dir.resolve("s.sock")),
                new NbdExport("", "", source, null, true)).block(WAIT);
        return NbdClient.connect(NbdAddress.parse(server.uri("")),
                NbdClientOptions.defaults().withConnections(2)).block(WAIT);
    }

    @Test
    void readsAreExactCachedEvictedAndPartlyCached() throws Exception {
        Path image = dir.resolve("img.raw");
        TestImages.randomSparseRaw(image, SIZE, 7, 60, 2 << 20);
        byte[] expected = Files.readAllBytes(image);
        NbdClient c = serve(image);
        try {
            for (String state : List.of("cached", "evicted", "every other 64 KiB cached")) {
                if (!state.equals("cached")) {
                    PageCache.evict(image);
                }
                if (state.startsWith("every")) {
                    PageCache.cacheEveryOther64k(image);
                }
                assertReadsExact(c, expected, state);
            }
        } finally {
            c.closeGracefully().block(WAIT);
        }
        Await.until(WAIT, "no request data held", () -> server.bytesInFlight() == 0);
        Await.until(WAIT, "every data buffer back", () -> server.bufferBytesHeld() == 0);
    }

    /**
     * 128 READs of up to 1 MiB in flight fill the channel, so most wait for the socket; the client
     * hangs up before reading the replies. What they held comes back.
     */
    @Test
    void readsWaitingForTheSocketLetGoWhenTheClientHangsUp() throws Exception {
        Path image = dir.resolve("img.raw");
        TestImages.randomSparseRaw(image, SIZE, 8, 80, 4 << 20);
        NbdClient c = serve(image);
        CountDownLatch sent = new CountDownLatch(1);
        Disposable reads = Flux.range(0, 512)
                .doOnNext(i -> {
                    if (i == 128) {
                        sent.countDown();
                    }
                })
                .flatMap(i -> c.read((i % 64) << 20, ByteBuffer.allocateDirect(1 << 20)).onErrorResume(e -> Mono.empty()),
                        128)
                .subscribe();
        assertTrue(sent.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        c.close();
        reads.dispose();
        Await.until(WAIT, "no request data held", () -> server.bytesInFlight() == 0);
        Await.until(WAIT, "every data buffer back", () -> server.bufferBytesHeld() == 0);
        Await.until(WAIT, "the connections closed", () -> server.connections() == 0);
    }

    /** 400 READs of random places and lengths (1 byte to 1 MiB), 64 at a time, compared with the file. */
    private static void assertReadsExact(NbdClient c, byte[] expected, String state) {
        RandomReads.assertExact(c, expected, new SplittableRandom(state.hashCode()), 400, 70_000, WAIT, state);
    }
}
