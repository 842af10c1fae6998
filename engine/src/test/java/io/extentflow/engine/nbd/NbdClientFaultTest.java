package io.extentflow.engine.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NettyLeaks;
import io.netty.channel.ChannelOption;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Faults: error replies, malformed and unexpected replies, a server that stops answering, a reset
 * connection. Every one must end in a clear {@link NbdException} naming the export, operation and
 * offset, quickly, with no buffer leaked ({@link NettyLeaks}).
 */
@ExtendWith(NettyLeaks.class)
class NbdClientFaultTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int FLAGS = NbdProtocol.TF_HAS_FLAGS | NbdProtocol.TF_SEND_FLUSH
            | NbdProtocol.TF_SEND_WRITE_ZEROES;
    private static final NbdClientOptions FAST = NbdClientOptions.defaults()
            .withTimeout(Duration.ofMillis(800)).withRetries(2).withRetryBackoff(Duration.ofMillis(10));

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    private NbdException readFails(String uri, NbdClientOptions options, long offset, int length) {
        NbdClient c = NbdClient.connect(NbdAddress.parse(uri), options).block(WAIT);
        try {
            Throwable[] caught = new Throwable[1];
            StepVerifier.create(c.read(offset, ByteBuffer.allocateDirect(length)))
                    .expectErrorSatisfies(t -> caught[0] = t)
                    .verify(WAIT);
            NbdException e = assertInstanceOf(NbdException.class, caught[0]);
            assertTrue(e.getMessage().contains(uri.substring(0, uri.indexOf('?'))), e.getMessage());
            assertEquals("read", e.operation());
            return e;
        } finally {
            c.closeGracefully().block(WAIT);
            assertEquals(0, c.openConnections(), "every connection closed");
        }
    }

    @Test
    void errorRepliesFailAfterBoundedRetriesNamingTheNbdError() throws Exception {
        var s = servers.nbdkit(dir, "--filter=error", "memory", "8M", "error-pread=EIO", "error-pread-rate=100%");
        NbdException e = readFails(s.uri(), FAST, 65536, 4096);
        assertEquals(NbdProtocol.EIO, e.error());
        assertEquals(65536, e.offset());
        assertTrue(e.getMessage().contains("at offset 65536"), e.getMessage());
        assertTrue(e.getMessage().contains("EIO"), e.getMessage());
        assertTrue(e.getMessage().contains("(after 3 attempts)"), e.getMessage());
    }

    @Test
    void aTransientErrorIsRetriedOnAFreshConnection() throws Exception {
        // nbdkit's log filter (outermost) records which connection carried each request and each
        // EIO the error filter made up; after an EIO, its connection must carry no new request
        Path log = dir.resolve("requests.log");
        var s = servers.nbdkit(dir, "--filter=log", "--filter=error", "memory", "8M", "logfile=" + log,
                "error-pread=EIO", "error-pread-rate=30%");
        NbdClient c = NbdClient.connect(NbdAddress.parse(s.uri()),
                FAST.withConnections(1).withRetries(50)).block(WAIT);
        try {
            for (int i = 0; i < 40; i++) {
                c.read(i * 4096L, ByteBuffer.allocateDirect(4096)).block(WAIT);
            }
        } finally {
            c.closeGracefully().block(WAIT);
        }
        java.util.Set<String> failed = new java.util.HashSet<>();
        java.util.Set<String> used = new java.util.HashSet<>();
        int errors = 0;
        for (String line : Files.readAllLines(log)) {
            var m = java.util.regex.Pattern.compile("connection=(\\d+) (\\.\\.\\.)?Read .*").matcher(line);
            if (!m.find()) {
                continue;
            }
            String conn = m.group(1);
            boolean reply = m.group(2) != null;
            if (!reply) {
                assertTrue(!failed.contains(conn), "a read went to connection " + conn
                        + " after it answered EIO:\n" + Files.readString(log));
                used.add(conn);
            } else if (line.contains("return=-1")) {
                failed.add(conn);
                errors++;
            }
        }
        assertTrue(errors > 0, "the error filter made no error: nothing was tested\n" + Files.readString(log));
        // reads go one at a time over one connection: each error moves the rest to a new one
        assertEquals(errors + 1, used.size(), "connections that carried reads");
    }

    @Test
    void permanentErrorsAreNotRetried() throws Exception {
        var s = servers.nbdkit(dir, "--filter=error", "memory", "8M", "error-pwrite=ENOSPC",
                "error-pwrite-rate=100%");
        NbdClient c = NbdClient.connect(NbdAddress.parse(s.uri()), FAST).block(WAIT);
        try {
            StepVerifier.create(c.write(0, ByteBuffer.allocateDirect(4096)))
                    .expectErrorSatisfies(t -> {
                        NbdException e = assertInstanceOf(NbdException.class, t);
                        assertEquals(NbdProtocol.ENOSPC, e.error());
                        assertTrue(e.getMessage().startsWith("write of 4096 bytes at offset 0 on nbd+unix:"),
                                e.getMessage());
                        assertTrue(!e.getMessage().contains("retries"), e.getMessage());
                    })
                    .verify(WAIT);
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    @Test
    void aServerThatStopsAnsweringTimesOut() throws Exception {
        var s = servers.nbdkit(dir, "--filter=delay", "memory", "8M", "rdelay=20");
        long t0 = System.nanoTime();
        NbdException e = readFails(s.uri(), FAST, 0, 4096);
        assertTrue(e.getMessage().contains("no reply from the server within"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos(), "took too long");
    }

    @Test
    void badReplyMagicIsAMalformedReply() {
        try (var f = new FakeNbdServer(dir.resolve("f.sock"), 1 << 20, FLAGS,
                (ctx, cmd, cookie, off, len) -> ctx.writeAndFlush(ctx.alloc().buffer(16).writeInt(0x12345678)
                        .writeInt(0).writeLong(cookie)))) {
            NbdException e = readFails(f.uri(), FAST, 0, 512);
            assertTrue(e.getMessage().contains("malformed reply: bad reply magic 0x12345678"), e.getMessage());
        }
    }

    @Test
    void replyWithUnknownCookieIsAMalformedReply() {
        try (var f = new FakeNbdServer(dir.resolve("f.sock"), 1 << 20, FLAGS,
                (ctx, cmd, cookie, off, len) -> FakeNbdServer.simple(ctx, cookie + 1000, 0))) {
            NbdException e = readFails(f.uri(), FAST, 4096, 512);
            assertTrue(e.getMessage().contains("unknown cookie"), e.getMessage());
            assertEquals(4096, e.offset());
        }
    }

    @Test
    void dataOutsideTheRequestIsAMalformedReply() {
        try (var f = new FakeNbdServer(dir.resolve("f.sock"), 1 << 20, FLAGS,
                (ctx, cmd, cookie, off, len) -> FakeNbdServer.data(ctx, true, cookie, off + 512, (int) len, 1))) {
            NbdException e = readFails(f.uri(), FAST, 0, 1024);
            assertTrue(e.getMessage().contains("outside the request"), e.getMessage());
        }
    }

    @Test
    void dataAtAnOffsetNear2To63IsAMalformedReplyNotAnOverflow() {
        // offset + length wraps below zero here: a check written as a sum would let the chunk in
        long near = Long.MAX_VALUE - 100;
        try (var f = new FakeNbdServer(dir.resolve("f.sock"), 1 << 20, FLAGS,
                (ctx, cmd, cookie, off, len) -> FakeNbdServer.data(ctx, true, cookie, near, (int) len, 1))) {
            NbdException e = readFails(f.uri(), FAST, 0, 1024);
            assertTrue(e.getMessage().contains("outside the request"), e.getMessage());
        }
    }

    @Test
    void aReplyThatDoesNotCoverTheReadFails() {
        try (var f = new FakeNbdServer(dir.resolve("f.sock"), 1 << 20, FLAGS,
                (ctx, cmd, cookie, off, len) -> FakeNbdServer.data(ctx, true, cookie, off, (int) len / 2, 1))) {
            NbdException e = readFails(f.uri(), FAST, 0, 1024);
            assertTrue(e.getMessage().contains("covered 512 of 1024 bytes"), e.getMessage());
        }
    }

    @Test
    void unknownChunkTypeIsAMalformedReply() {
        try (var f = new FakeNbdServer(dir.resolve("f.sock"), 1 << 20, FLAGS,
                (ctx, cmd, cookie, off, len) -> ctx.writeAndFlush(
                        FakeNbdServer.chunkHeader(ctx, NbdProtocol.REPLY_FLAG_DONE, 77, cookie, 0)))) {
            NbdException e = readFails(f.uri(), FAST, 0, 512);
            assertTrue(e.getMessage().contains("unknown reply chunk type 77"), e.getMessage());
        }
    }

    @Test
    void impossibleDataLengthIsRefusedBeforeBuffering() {
        try (var f = new FakeNbdServer(dir.resolve("f.sock"), 1 << 20, FLAGS,
                (ctx, cmd, cookie, off, len) -> ctx.writeAndFlush(FakeNbdServer.chunkHeader(ctx,
                        NbdProtocol.REPLY_FLAG_DONE, NbdProtocol.CHUNK_OFFSET_DATA, cookie, Integer.MAX_VALUE)
                        .writeLong(off)))) {
            NbdException e = readFails(f.uri(), FAST, 0, 512);
            assertTrue(e.getMessage().contains("impossible length"), e.getMessage());
        }
    }

    @Test
    void aResetConnectionIsRetriedOnAFreshConnectionThenFails() {
        try (var f = new FakeNbdServer(dir.resolve("f.sock"), 1 << 20, FLAGS, (ctx, cmd, cookie, off, len) -> {
            // half a reply, then an abortive close (RST)
            FakeNbdServer.data(ctx, false, cookie, off, (int) len / 2, 1);
            ctx.channel().config().setOption(ChannelOption.SO_LINGER, 0);
            ctx.close();
        })) {
            NbdException e = readFails(f.uri(), FAST, 8192, 1024);
            assertEquals(8192, e.offset());
            assertTrue(e.getMessage().contains("(after 3 attempts)"), e.getMessage());
            assertEquals(3, f.requests.get(), "one request and two retries");
            assertTrue(f.connections.get() >= 3, "each retry on a fresh connection");
        }
    }

    @Test
    void aServerKilledWhileRequestsAreInFlightFailsThemAll() throws Exception {
        var s = servers.nbdkit(dir, "--filter=delay", "memory", "8M", "rdelay=2");
        NbdClient c = NbdClient.connect(NbdAddress.parse(s.uri()), FAST.withTimeout(Duration.ofSeconds(20)))
                .block(WAIT);
        try {
            Mono<Void> reads = reactor.core.publisher.Flux.range(0, 16)
                    .flatMap(i -> c.read(i * 65536L, ByteBuffer.allocateDirect(65536)))
                    .then();
            StepVerifier.create(reads)
                    .then(s::kill)
                    // reads failing at the same moment on two event loops reach flatMap together, which
                    // then ends with both (a composite): each of them must be the whole failure
                    .expectErrorSatisfies(t -> reactor.core.Exceptions.unwrapMultiple(t).forEach(one -> {
                        NbdException e = assertInstanceOf(NbdException.class, one);
                        assertTrue(e.getMessage().contains("cannot connect") || e.getMessage().contains("closed"),
                                e.getMessage());
                        assertTrue(e.getMessage().contains("(after 3 attempts)"), e.getMessage());
                    }))
                    .verify(WAIT);
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    @Test
    void aMissingExportIsRefusedAtConnect() throws Exception {
        var s = servers.nbdkit(dir, "memory", "1M");
        Path raw = dir.resolve("x.raw");
        java.nio.file.Files.write(raw, new byte[4096]);
        var q = servers.qemuNbd(dir, "-x", "present", "-f", "raw", raw.toString());
        StepVerifier.create(NbdClient.connect(NbdAddress.parse(q.uri("absent")), FAST))
                .expectErrorSatisfies(t -> assertTrue(t.getMessage().contains("no export named 'absent'"),
                        t.getMessage()))
                .verify(WAIT);
        assertTrue(s.uri().contains("socket="));
    }

    @Test
    void nothingListeningFailsToConnectClearly() {
        StepVerifier.create(NbdClient.connect(NbdAddress.parse("nbd+unix:///x?socket=" + dir.resolve("none.sock")),
                        FAST))
                .expectErrorSatisfies(t -> {
                    NbdException e = assertInstanceOf(NbdException.class, t);
                    assertTrue(e.getMessage().contains("cannot connect"), e.getMessage());
                })
                .verify(WAIT);
    }
}
