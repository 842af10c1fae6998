package io.extentflow.engine.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClient;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.nbd.NbdException;
import io.extentflow.engine.nbd.NbdExtent;
import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.MemoryImage;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.RandomReads;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;

/**
 * The project's own NBD client against its own server, with compact and with extended headers: the
 * handshake's facts, reads with holes, writes, zeroing, flush and block status, several connections.
 * The peers of the command-line tests (qemu, nbdcopy, nbdinfo) are in the samples module.
 */
@ExtendWith(NettyLeaks.class)
class NbdServerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private NbdServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.shutdown(WAIT).block(WAIT);
        }
    }

    /** 8 MiB: data, a hole, data, a zero run (allocated), data. */
    private static final List<Extent> LAYOUT = List.of(Extent.data(0, 1 << 20), Extent.hole(1 << 20, 3 << 20),
            Extent.data(4 << 20, 1 << 20), Extent.zero(5 << 20, 1 << 20), Extent.data(6 << 20, 2 << 20));

    private static byte[] content() {
        byte[] data = new byte[8 << 20];
        new SplittableRandom(11).nextBytes(data);
        for (Extent e : LAYOUT) {
            if (e.zero()) {
                Arrays.fill(data, (int) e.start(), (int) e.end(), (byte) 0);
            }
        }
        return data;
    }

    private NbdClient connect(NbdExport export, boolean extended, int connections) {
        server = NbdServer.start(NbdServerConfig.defaults().withSocket(dir.resolve("s.sock")), export).block(WAIT);
        return NbdClient.connect(NbdAddress.parse(server.uri(export.name())),
                NbdClientOptions.defaults().withConnections(connections).withExtendedHeaders(extended)
                        .withAllocationDepth(true)).block(WAIT);
    }

    @ParameterizedTest(name = "extended headers: {0}")
    @ValueSource(booleans = {false, true})
    void readOnlyExportReadsEveryByteAndRefusesWrites(boolean extended) {
        byte[] data = content();
        NbdClient c = connect(new NbdExport("disk", "", MemoryImage.source(data, LAYOUT), null, true), extended, 2);
        try {
            assertEquals(data.length, c.size());
            assertTrue(c.info().readOnly());
            assertTrue(c.info().canMultiConn());
            assertEquals(extended, c.info().extendedHeaders());
            assertEquals(4096, c.info().preferredBlock());
            assertEquals(32 << 20, c.info().maximumPayload());
            assertTrue(c.info().contexts().contains(NbdProtocol.CONTEXT_BASE_ALLOCATION));
            ByteBuffer back = ByteBuffer.allocateDirect(data.length);
            // reads of 768 KiB cross every boundary of the layout
            Flux.range(0, data.length / (768 << 10) + 1)
                    .flatMap(i -> {
                        int off = i * (768 << 10);
                        int len = Math.min(768 << 10, data.length - off);
                        return c.read(off, back.slice(off, len));
                    }, 8)
                    .blockLast(WAIT);
            byte[] got = new byte[data.length];
            back.get(0, got);
            assertArrayEquals(data, got);

            NbdException e = assertThrows(NbdException.class,
                    () -> c.write(0, ByteBuffer.allocate(4096)).block(WAIT));
            assertEquals(NbdProtocol.EPERM, e.error(), e.getMessage());
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    /**
     * Many READs at once at random places, of 1 byte to 1 MiB (across holes and the 256 KiB pieces of
     * the reply buffers), twice: first while the extents are fetched, then from the cached extents
     * (the event loop's short path). Every byte is right, and every buffer and byte of budget is back.
     */
    @ParameterizedTest(name = "extended headers: {0}")
    @ValueSource(booleans = {false, true})
    void concurrentReadsGetEveryByteWithColdAndWarmExtents(boolean extended) {
        byte[] data = content();
        NbdClient c = connect(new NbdExport("", "", MemoryImage.source(data, LAYOUT), null, true), extended, 2);
        try {
            SplittableRandom random = new SplittableRandom(3);
            for (int pass = 0; pass < 2; pass++) {
                RandomReads.assertExact(c, data, random, 256, 4096, WAIT, "pass " + pass);
            }
        } finally {
            c.closeGracefully().block(WAIT);
        }
        Await.until(WAIT, "no request data held", () -> server.bytesInFlight() == 0);
        Await.until(WAIT, "every data buffer back", () -> server.bufferBytesHeld() == 0);
    }

    @ParameterizedTest(name = "extended headers: {0}")
    @ValueSource(booleans = {false, true})
    void blockStatusReportsTheSourcesExtents(boolean extended) {
        NbdClient c = connect(new NbdExport("", "", MemoryImage.source(content(), LAYOUT), null, true), extended, 1);
        try {
            Map<String, List<NbdExtent>> status = c.blockStatus(0, 8 << 20).block(WAIT);
            List<NbdExtent> expected = List.of(new NbdExtent(0, 1 << 20, 0),
                    new NbdExtent(1 << 20, 3 << 20, NbdProtocol.STATE_HOLE | NbdProtocol.STATE_ZERO),
                    new NbdExtent(4 << 20, 1 << 20, 0), new NbdExtent(5 << 20, 1 << 20, NbdProtocol.STATE_ZERO),
                    new NbdExtent(6 << 20, 2 << 20, 0));
            assertEquals(expected, status.get(NbdProtocol.CONTEXT_BASE_ALLOCATION));
            // from the middle of an extent, to before the end of another: clipped at both ends
            List<NbdExtent> part = c.map(NbdProtocol.CONTEXT_BASE_ALLOCATION, 512 << 10, 4 << 20)
                    .collectList().block(WAIT);
            assertEquals(List.of(new NbdExtent(512 << 10, 512 << 10, 0),
                    new NbdExtent(1 << 20, 3 << 20, NbdProtocol.STATE_HOLE | NbdProtocol.STATE_ZERO),
                    new NbdExtent(4 << 20, 512 << 10, 0)), part);
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    @ParameterizedTest(name = "extended headers: {0}")
    @ValueSource(booleans = {false, true})
    void writableExportTakesWritesZeroesAndFlushesOverSeveralConnections(boolean extended) {
        byte[] image = new byte[64 << 20];
        MemoryImage memory = MemoryImage.source(image, List.of(Extent.data(0, image.length)));
        NbdClient c = connect(new NbdExport("", "", memory, memory, true), extended, 4);
        try {
            assertFalse(c.info().readOnly());
            assertTrue(c.info().canWriteZeroes());
            assertEquals(4, c.connections());
            // 40 MiB crosses the 32 MiB payload limit: the client splits it
            byte[] data = new byte[40 << 20];
            new SplittableRandom(7).nextBytes(data);
            c.write(4096, ByteBuffer.allocateDirect(data.length).put(data).flip()).block(WAIT);
            c.writeZeroes(8192, 1 << 20, false, false).block(WAIT);
            c.writeZeroes(3 << 20, 1 << 20, true, false).block(WAIT);
            c.flush().block(WAIT);
            byte[] expected = new byte[image.length];
            System.arraycopy(data, 0, expected, 4096, data.length);
            Arrays.fill(expected, 8192, 8192 + (1 << 20), (byte) 0);
            Arrays.fill(expected, 3 << 20, 4 << 20, (byte) 0);
            assertArrayEquals(expected, memory.bytes());

            ByteBuffer back = ByteBuffer.allocateDirect(image.length);
            c.read(0, back).block(WAIT);
            byte[] got = new byte[image.length];
            back.flip().get(got);
            assertArrayEquals(expected, got);
            assertTrue(memory.flushes() >= 1);

        } finally {
            c.closeGracefully().block(WAIT);
        }
    }

    /**
     * What the sockets are read into comes from the server's pool, not from fresh direct memory per
     * receive buffer (ConnectionMemory: Netty's default allocator pools nothing that large under the
     * server's small heap), and all of it is back once the client has gone.
     */
    @ParameterizedTest(name = "extended headers: {0}")
    @ValueSource(booleans = {false, true})
    void writesAreReceivedIntoPooledMemoryThatIsAllReturned(boolean extended) {
        byte[] image = new byte[16 << 20];
        MemoryImage memory = MemoryImage.source(image, List.of(Extent.data(0, image.length)));
        NbdClient c = connect(new NbdExport("", "", memory, memory, true), extended, 2);
        byte[] data = new byte[image.length];
        new SplittableRandom(5).nextBytes(data);
        try {
            // nbdcopy's 256 KiB WRITEs, all at once
            int piece = 256 << 10;
            Flux.range(0, data.length / piece)
                    .flatMap(i -> c.write((long) i * piece,
                            ByteBuffer.allocateDirect(piece).put(data, i * piece, piece).flip()), 64)
                    .blockLast(WAIT);
            c.flush().block(WAIT);
        } finally {
            c.closeGracefully().block(WAIT);
        }
        assertArrayEquals(data, memory.bytes());
        var arena = server.connectionMemory().directArenas().get(0);
        assertTrue(arena.numAllocations() >= data.length / (64 << 10),
                "16 MiB received in at most 64 KiB buffers from the pool: " + arena.numAllocations() + " allocations");
        assertEquals(0, arena.numHugeAllocations(), "nothing beyond the pool's chunks");
        Await.until(WAIT, "every receive buffer back in the pool", () -> arena.numActiveAllocations() == 0);
    }

    @ParameterizedTest(name = "extended headers: {0}")
    @ValueSource(booleans = {false, true})
    void sinkFailuresBecomeErrorRepliesAndTheConnectionGoesOn(boolean extended) {
        byte[] image = new byte[8 << 20];
        MemoryImage memory = MemoryImage.source(image, List.of(Extent.data(0, image.length)))
                .failWriteAt(off -> off >= (4 << 20) && off < (5 << 20));
        NbdClient c = connect(new NbdExport("", "", memory, memory, false),
                extended, 1);
        try {
            NbdException e = assertThrows(NbdException.class,
                    () -> c.write(4 << 20, ByteBuffer.allocate(4096)).block(WAIT));
            assertEquals(NbdProtocol.EIO, e.error(), e.getMessage());
            c.write(0, ByteBuffer.wrap(new byte[] {1, 2, 3})).block(WAIT);
            assertEquals(2, memory.bytes()[1]);
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }
}
