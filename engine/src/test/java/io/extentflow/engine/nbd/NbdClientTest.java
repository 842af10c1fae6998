package io.extentflow.engine.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.MemoryImage;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.OwnNbdServer;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;

/**
 * The client against real servers (qemu-nbd, nbdkit, and where the case allows, extentflow's own server):
 * handshake facts, data round trips, zeroing, block status.
 */
@ExtendWith(NettyLeaks.class)
class NbdClientTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    /** extentflow's own servers a test started (the client's suite runs against them too). */
    private final List<OwnNbdServer> ownServers = new java.util.ArrayList<>();

    @AfterEach
    void stopOwnServers() {
        ownServers.forEach(OwnNbdServer::close);
    }

    @Test
    void qemuNbdHandshakeReportsSizeBlockSizesAndContexts() throws Exception {
        Path raw = dir.resolve("a.raw");
        try (var f = java.nio.channels.FileChannel.open(raw, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            f.truncate(0);
            f.write(ByteBuffer.allocate(1), (8L << 20) - 1);
        }
        var server = servers.qemuNbd(dir, "-A", "-f", "raw", "-x", "disk", raw.toString());
        NbdClient c = NbdClient.connect(NbdAddress.parse(server.uri("disk")), NbdClientOptions.defaults()).block(WAIT);
        try {
            ExportInfo info = c.info();
            assertEquals(8L << 20, info.size());
            assertEquals(1, info.minimumBlock());
            assertEquals(4096, info.preferredBlock());
            assertEquals(32 << 20, info.maximumPayload());
            assertTrue(info.hasContext(NbdProtocol.CONTEXT_BASE_ALLOCATION));
            assertTrue(info.hasContext(NbdProtocol.CONTEXT_ALLOCATION_DEPTH));
            assertFalse(info.readOnly());
            assertFalse(info.canMultiConn(), "qemu-nbd -e 1 does not allow multi-conn");
            assertEquals(1, c.connections());
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"nbdkit memory", "extentflow"})
    void writeReadZeroAndBlockStatusOnAMemoryExport(String kind) throws Exception {
        String uri;
        if (kind.equals("extentflow")) {
            MemoryImage memory = MemoryImage.source(new byte[64 << 20], List.of(Extent.data(0, 64 << 20)));
            OwnNbdServer own = OwnNbdServer.serve(dir, memory, memory);
            ownServers.add(own);
            uri = own.uri();
        } else {
            uri = servers.nbdkit(dir, "memory", "64M").uri();
        }
        NbdClient c = NbdClient.connect(NbdAddress.parse(uri), NbdClientOptions.defaults().withConnections(4))
                .block(WAIT);
        try {
            assertTrue(c.info().canMultiConn());
            assertEquals(4, c.connections());
            // 40 MiB crosses the 32 MiB payload limit: the client must split it
            byte[] data = new byte[40 << 20];
            new SplittableRandom(7).nextBytes(data);
            ByteBuffer src = ByteBuffer.allocateDirect(data.length).put(data).flip();
            c.write(4096, src).block(WAIT);
            assertEquals(src.limit(), src.position());
            c.writeZeroes(8192, 1 << 20, false, false).block(WAIT);
            c.flush().block(WAIT);

            ByteBuffer back = ByteBuffer.allocateDirect(data.length);
            c.read(4096, back).block(WAIT);
            assertEquals(back.limit(), back.position());
            byte[] got = new byte[data.length];
            back.flip().get(got);
            byte[] expected = data.clone();
            java.util.Arrays.fill(expected, 4096, 4096 + (1 << 20), (byte) 0);
            assertArrayEquals(expected, got);

            Map<String, List<NbdExtent>> status = c.blockStatus(0, 64 << 20).block(WAIT);
            List<NbdExtent> base = status.get(NbdProtocol.CONTEXT_BASE_ALLOCATION);
            assertEquals(0, base.get(0).offset());
            long covered = 0;
            for (NbdExtent e : base) {
                assertEquals(covered, e.offset());
                covered = e.end();
            }
            assertTrue(covered > 0);
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qemu-nbd", "extentflow"})
    void manyConcurrentReadsOnOneConnectionMatchTheirReplies(String server) throws Exception {
        byte[] data = new byte[8 << 20];
        NbdClient c = serveRandom(server, data, 3);
        try {
            readAllAndCompare(c, data, 64 << 10, 128, ByteBuffer::allocate);
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qemu-nbd", "extentflow"})
    void readsIntoDirectBuffersAreReceivedInPlaceAndIntoHeapBuffersByACopy(String server) throws Exception {
        byte[] data = new byte[8 << 20];
        NbdClient c = serveRandom(server, data, 5, "-e", "4");
        try {
            readAllAndCompare(c, data, 256 << 10, 32, ByteBuffer::allocateDirect);
            long copied = c.payloadBytesCopied();
            // headers are read on their own, so payload bytes are copied only when they came in one
            // read with a reply longer than a data chunk's header (a hole chunk, say): none here
            assertTrue(copied < data.length / 100, copied + " of " + data.length + " bytes copied");
            readAllAndCompare(c, data, 256 << 10, 32, ByteBuffer::allocate);
            assertEquals(data.length, c.payloadBytesCopied() - copied);
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    /**
     * Fills {@code data} with random bytes, serves them read-only with qemu-nbd (and these options), or
     * with extentflow's own server in this JVM, and connects to it.
     */
    private NbdClient serveRandom(String server, byte[] data, long seed, String... qemuNbdOptions)
            throws java.io.IOException {
        new SplittableRandom(seed).nextBytes(data);
        if (server.equals("extentflow")) {
            MemoryImage image = MemoryImage.source(data, List.of(Extent.data(0, data.length)));
            OwnNbdServer own = OwnNbdServer.serve(dir, image, null);
            ownServers.add(own);
            return NbdClient.connect(NbdAddress.parse(own.uri()), NbdClientOptions.defaults()).block(WAIT);
        }
        Path raw = dir.resolve("random-" + seed + ".raw");
        Files.write(raw, data);
        List<String> args = new java.util.ArrayList<>(List.of("-r", "-f", "raw"));
        args.addAll(List.of(qemuNbdOptions));
        args.add(raw.toString());
        var qemu = servers.qemuNbd(dir, args.toArray(String[]::new));
        return NbdClient.connect(NbdAddress.parse(qemu.uri()), NbdClientOptions.defaults()).block(WAIT);
    }

    /** Reads {@code data} back in blocks, {@code concurrency} at a time, into buffers from {@code buffers}. */
    private static void readAllAndCompare(NbdClient c, byte[] data, int block, int concurrency,
                                          java.util.function.IntFunction<ByteBuffer> buffers) {
        Flux.range(0, data.length / block)
                .flatMap(i -> {
                    ByteBuffer b = buffers.apply(block);
                    return c.read((long) i * block, b).then(reactor.core.publisher.Mono.fromRunnable(() -> {
                        byte[] got = new byte[block];
                        b.flip().get(got);
                        assertArrayEquals(java.util.Arrays.copyOfRange(data, i * block, (i + 1) * block), got,
                                "block " + i);
                    }));
                }, concurrency)
                .then().block(WAIT);
    }

    @Test
    void aCancelledReadsTargetIsNotWrittenAfterTheCancel() throws Exception {
        // nbdkit pattern: each 8-byte word holds its own offset, so every word after the first is non-zero
        var server = servers.nbdkit(dir, "pattern", "256M");
        NbdClient c = NbdClient.connect(NbdAddress.parse(server.uri()),
                NbdClientOptions.defaults().withConnections(1)).block(WAIT);
        try {
            int size = 32 << 20;
            ByteBuffer target = ByteBuffer.allocateDirect(size);
            int cutMidway = 0;
            for (int i = 0; i < 8; i++) {
                target.clear();
                for (int at = 0; at < size; at += 8) {
                    target.putLong(at, 0);
                }
                java.util.concurrent.atomic.AtomicBoolean completed = new java.util.concurrent.atomic.AtomicBoolean();
                reactor.core.Disposable read = c.read(0, target).doOnSuccess(x -> completed.set(true)).subscribe();
                // cancel once the payload has reached a point that moves on with each round
                int seen = i * (1 << 20) + 8;
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (target.getLong(seen) == 0 && !completed.get()) {
                    assertTrue(System.nanoTime() < deadline, "no data arrived at " + seen);
                    Thread.onSpinWait();
                }
                read.dispose();
                if (!completed.get()) {
                    cutMidway++;
                }
                for (int at = 0; at < size; at += 8) {
                    target.putLong(at, 0x5a5a5a5a5a5a5a5aL);
                }
                // the server answers this after the rest of the cancelled read's payload: it was
                // already on its way when this was sent, on the same connection
                ByteBuffer next = ByteBuffer.allocateDirect(4096);
                c.read(1 << 20, next).block(WAIT);
                assertEquals(1L << 20, next.getLong(0));
                for (int at = 0; at < size; at += 8) {
                    assertEquals(0x5a5a5a5a5a5a5a5aL, target.getLong(at), "round " + i + ": byte " + at + " written after the cancel");
                }
            }
            assertTrue(cutMidway > 0, "no read was cancelled while its data arrived");
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    @Test
    void fastZeroIsSentOnlyWhenOfferedAndRefusedWithEnotsupOtherwise() throws Exception {
        var fast = servers.nbdkit(dir, "memory", "8M");
        var slow = servers.nbdkit(dir, "--filter=nozero", "memory", "8M", "fastzeromode=none");
        NbdClient a = NbdClient.connect(NbdAddress.parse(fast.uri()), NbdClientOptions.defaults()).block(WAIT);
        NbdClient b = NbdClient.connect(NbdAddress.parse(slow.uri()), NbdClientOptions.defaults()).block(WAIT);
        try {
            assertTrue(a.info().canFastZero());
            a.writeZeroes(0, 8 << 20, false, true).block(WAIT);
            assertFalse(b.info().canFastZero());
            reactor.test.StepVerifier.create(b.writeZeroes(0, 8 << 20, false, true))
                    .expectErrorSatisfies(t -> assertEquals(NbdProtocol.ENOTSUP, ((NbdException) t).error()))
                    .verify(WAIT);
        } finally {
            a.closeGracefully().block(WAIT);
            b.closeGracefully().block(WAIT);
        }
    }

    @Test
    void cancelledReadsGiveBackTheirBuffersAndTheClientStaysUsable() throws Exception {
        var server = servers.nbdkit(dir, "--filter=delay", "memory", "8M", "rdelay=200ms");
        NbdClient c = NbdClient.connect(NbdAddress.parse(server.uri()),
                NbdClientOptions.defaults().withRequestsPerConnection(4)).block(WAIT);
        try {
            // 64 reads over 4 connections of 4 slots: most wait in queues, some are on the wire
            reactor.core.Disposable d = Flux.range(0, 64)
                    .flatMap(i -> c.read(i * 4096L, ByteBuffer.allocateDirect(4096)), 64)
                    .subscribe();
            d.dispose();
            ByteBuffer b = ByteBuffer.allocateDirect(4096);
            c.read(0, b).block(WAIT);
            assertEquals(4096, b.position());
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    @Test
    void worksOverTcpToo() throws Exception {
        var server = servers.nbdkitTcp(dir, "memory", "4M");
        assertTrue(server.uri().startsWith("nbd://127.0.0.1:"));
        NbdClient c = NbdClient.connect(NbdAddress.parse(server.uri()), NbdClientOptions.defaults()).block(WAIT);
        try {
            byte[] data = new byte[1 << 20];
            new SplittableRandom(5).nextBytes(data);
            c.write(1 << 20, ByteBuffer.wrap(data)).block(WAIT);
            ByteBuffer back = ByteBuffer.allocate(data.length);
            c.read(1 << 20, back).block(WAIT);
            assertArrayEquals(data, back.array());
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qemu-nbd", "extentflow"})
    void aServerWithFewerClientSlotsThanConnectionsGetsOnlyWhatItAccepts(String kind) throws Exception {
        Path raw = dir.resolve("s.raw");
        Files.write(raw, new byte[1 << 20]);
        // qemu-nbd -e 2 advertises multi-conn but serves two clients; the others wait unanswered.
        // extentflow's server with two slots closes the others at once.
        String uri;
        if (kind.equals("qemu-nbd")) {
            uri = servers.qemuNbd(dir, "-r", "-e", "2", "-f", "raw", raw.toString()).uri();
        } else {
            OwnNbdServer own = OwnNbdServer.serve(dir,
                    MemoryImage.source(new byte[1 << 20], List.of(Extent.data(0, 1 << 20))), null, 2);
            ownServers.add(own);
            uri = own.uri();
        }
        long t0 = System.nanoTime();
        NbdClient c = NbdClient.connect(NbdAddress.parse(uri), NbdClientOptions.defaults()).block(WAIT);
        try {
            assertEquals(2, c.connections());
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos());
            ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
            c.read(0, b).block(WAIT);
            assertEquals(1 << 20, b.position());
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }
}
