package io.extentflow.engine.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NettyLeaks;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * A connection that answered a transient error is retired and replaced; no request on its way to it
 * may be lost on the way (nbdkit's error filter makes the errors).
 */
@ExtendWith(NettyLeaks.class)
class NbdRetirementTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    /**
     * The order a copy produces: a read fails with EIO; while its failure is handled on the event loop,
     * the next request has already been handed to the connection (its start is queued behind), and
     * the client retires the connection. The request must not be sent and then cut off by the
     * disconnect ("closed by the client", not transient, so never retried): it must come back as
     * transient, never sent, for the client to send elsewhere. The queued start and the retirement are
     * ordered by the event loop itself, so this runs the same way every time.
     */
    @Test
    void aRequestHandedOverWhileItsConnectionRetiresComesBackUnsentAndTransient() throws Exception {
        var s = servers.nbdkit(dir, "--filter=error", "memory", "8M", "error-pread=EIO", "error-pread-rate=100%");
        NbdConnection c = NbdConnection.open(NbdAddress.parse(s.uri()), NbdClientOptions.defaults()).block(WAIT);
        CompletableFuture<Object> next = new CompletableFuture<>();
        ByteBuffer payload = ByteBuffer.allocateDirect(4096);
        try {
            c.submit(NbdProtocol.CMD_READ, 0, 0, 4096, ByteBuffer.allocateDirect(4096))
                    .doOnError(NbdException.class, e -> {
                        assertTrue(e.isTransient(), "EIO is transient: " + e.getMessage());
                        // on the event loop, inside the EIO reply's handling: first the next request
                        // arrives, then the client reacts to the EIO as NbdClient does
                        c.submit(NbdProtocol.CMD_WRITE, 0, 4096, 4096, payload)
                                .subscribe(v -> { }, next::completeExceptionally, () -> next.complete("written"));
                        c.retire();
                    })
                    .onErrorResume(NbdException.class, e -> Mono.empty())
                    .block(WAIT);
            Throwable failure = null;
            try {
                next.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                failure = e.getCause();
            }
            NbdException e = assertInstanceOf(NbdException.class, failure,
                    "the request handed to a retiring connection must not be sent on it");
            assertTrue(e.isTransient(), "it must be sent again elsewhere, not fail the copy: " + e.getMessage());
            assertInstanceOf(UnsentRequestException.class, e, e.getMessage());
        } finally {
            c.close().block(WAIT);
        }
    }

    /**
     * A write that reaches its connection after the connection closed was never sent; it used to wait
     * for its payload to be written, which never happens, and hung.
     */
    @Test
    void aWriteHandedToAClosedConnectionFailsAtOnce() throws Exception {
        var s = servers.nbdkit(dir, "memory", "8M");
        NbdConnection c = NbdConnection.open(NbdAddress.parse(s.uri()), NbdClientOptions.defaults()).block(WAIT);
        c.close().block(WAIT);
        StepVerifier.create(c.submit(NbdProtocol.CMD_WRITE, 0, 0, 4096, ByteBuffer.allocateDirect(4096)))
                .expectErrorSatisfies(t -> {
                    NbdException e = assertInstanceOf(UnsentRequestException.class, t);
                    assertTrue(e.getMessage().contains("closed by the client"), e.getMessage());
                    assertFalse(e.isTransient(), "the client closed it: nothing to retry");
                })
                .verify(WAIT);
    }

    /**
     * Many requests in flight over several connections while one in five reads and writes fails with
     * EIO: every connection that answers one is retired with requests still on their way to it, and
     * every request must still succeed, the data exact.
     */
    @Test
    void concurrentReadsAndWritesAllSucceedWhileConnectionsAreRetired() throws Exception {
        var s = servers.nbdkit(dir, "--filter=error", "memory", "16M", "error-pread=EIO", "error-pread-rate=20%",
                "error-pwrite=EIO", "error-pwrite-rate=20%");
        NbdClientOptions options = NbdClientOptions.defaults().withConnections(4).withRequestsPerConnection(8)
                .withRetries(40).withRetryBackoff(Duration.ofMillis(1));
        NbdClient c = NbdClient.connect(NbdAddress.parse(s.uri()), options).block(WAIT);
        int block = 16 << 10;
        byte[] data = new byte[16 << 20];
        new SplittableRandom(11).nextBytes(data);
        try {
            Flux.range(0, data.length / block)
                    .flatMap(i -> c.write((long) i * block,
                            ByteBuffer.allocateDirect(block).put(data, i * block, block).flip()), 64)
                    .then()
                    .block(WAIT);
            ByteBuffer back = ByteBuffer.allocateDirect(data.length);
            Flux.range(0, data.length / block)
                    .flatMap(i -> c.read((long) i * block, back.slice(i * block, block)), 64)
                    .then()
                    .block(WAIT);
            byte[] got = new byte[data.length];
            back.get(0, got);
            assertArrayEquals(data, got);
        } finally {
            c.closeGracefully().block(WAIT);
            assertEquals(0, c.openConnections(), "every connection closed");
        }
    }
}
