package io.extentflow.engine.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClient;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.MemoryImage;
import io.extentflow.engine.testing.NettyLeaks;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * What no well-behaved client sends: each gets the spec's answer (an error reply, or a closed
 * connection where the stream cannot be followed any more), and the server keeps serving everyone
 * else. Also: many clients at once, and clients that vanish mid-request, leaving nothing held.
 */
@ExtendWith(NettyLeaks.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NbdServerRobustnessTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int SIZE = 16 << 20;

    @TempDir
    Path dir;

    private NbdServer server;
    private Path socket;
    private byte[] data;
    private MemoryImage image;

    @AfterEach
    void stop() {
        if (server != null) {
            server.shutdown(WAIT).block(WAIT);
        }
    }

    private void serve(boolean writable, int connections) {
        serve(writable, NbdServerConfig.defaults().withMaxConnections(connections));
    }

    private void serve(boolean writable, NbdServerConfig config) {
        data = new byte[SIZE];
        new SplittableRandom(5).nextBytes(data);
        Arrays.fill(data, 4 << 20, 8 << 20, (byte) 0);
        image = MemoryImage.source(data, List.of(Extent.data(0, 4 << 20), Extent.hole(4 << 20, 4 << 20),
                Extent.data(8 << 20, 8 << 20)));
        socket = dir.resolve("s.sock");
        server = NbdServer.start(config.withSocket(socket), new NbdExport("", "", image, writable ? image : null, true)).block(WAIT);
    }

    /** The server still serves a normal client, whole and correct. */
    private void stillServes() throws Exception {
        try (RawNbdClient c = RawNbdClient.transmission(socket, false)) {
            c.request(0, NbdProtocol.CMD_READ, 99, 4096, 8192);
            RawNbdClient.Answer a = c.answer();
            assertEquals(0, a.errorValue());
            assertEquals(99, a.cookie());
            assertArrayEquals(Arrays.copyOfRange(data, 4096, 4096 + 8192), c.data(8192));
        }
    }

    @Test
    void badOptionMagicClosesThatConnectionOnly() throws Exception {
        serve(false, 8);
        try (RawNbdClient c = RawNbdClient.connect(socket)) {
            c.send(ByteBuffer.allocate(4).putInt(NbdProtocol.CLIENT_FIXED_NEWSTYLE).flip());
            c.send(ByteBuffer.allocate(16).putLong(0x1122334455667788L).putInt(NbdProtocol.OPT_GO).putInt(0).flip());
            assertTrue(c.closedByServer());
        }
        stillServes();
    }

    @Test
    void unknownFlagsAndNonFixedClientsAreDropped() throws Exception {
        serve(false, 8);
        try (RawNbdClient c = RawNbdClient.connect(socket)) {
            c.send(ByteBuffer.allocate(4).putInt(0x80).flip());
            assertTrue(c.closedByServer());
        }
        try (RawNbdClient c = RawNbdClient.connect(socket)) {
            c.send(ByteBuffer.allocate(4).putInt(0).flip());
            assertTrue(c.closedByServer());
        }
        stillServes();
    }

    @Test
    void hugeUnknownAndWithdrawnOptionsGetErrorRepliesAndTheHandshakeGoesOn() throws Exception {
        serve(false, 8);
        try (RawNbdClient c = RawNbdClient.connect(socket)) {
            c.send(ByteBuffer.allocate(4).putInt(NbdProtocol.CLIENT_FIXED_NEWSTYLE).flip());
            c.option(NbdProtocol.OPT_GO, new byte[1 << 20]); // 1 MiB of option data
            RawNbdClient.OptionAnswer big = c.finalAnswer();
            assertEquals(NbdProtocol.REP_ERR_TOO_BIG, big.type(), RawNbdClient.text(big.data()));
            c.option(99, new byte[8]);
            assertEquals(NbdProtocol.REP_ERR_UNSUP, c.finalAnswer().type());
            c.option(4, new byte[0]); // NBD_OPT_PEEK_EXPORT, withdrawn
            assertEquals(NbdProtocol.REP_ERR_UNSUP, c.finalAnswer().type());
            c.option(5, new byte[0]); // STARTTLS without a certificate
            assertEquals(NbdProtocol.REP_ERR_UNSUP, c.finalAnswer().type());
            c.option(NbdProtocol.OPT_GO, ByteBuffer.allocate(8).putInt(2).put((byte) 'n').put((byte) 'o')
                    .putShort((short) 0).array());
            assertEquals(NbdProtocol.REP_ERR_UNKNOWN, c.finalAnswer().type());
            c.option(NbdProtocol.OPT_GO, ByteBuffer.allocate(3).putShort((short) 7).put((byte) 1).array());
            assertEquals(NbdProtocol.REP_ERR_INVALID, c.finalAnswer().type());
            c.option(NbdProtocol.OPT_GO, ByteBuffer.allocate(6).putInt(0).putShort((short) 0).array());
            assertEquals(NbdProtocol.REP_ACK, c.finalAnswer().type());
            c.request(0, NbdProtocol.CMD_READ, 1, 0, 512);
            assertEquals(0, c.answer().errorValue());
            assertArrayEquals(Arrays.copyOf(data, 512), c.data(512));
        }
    }

    /**
     * The replies to one option leave in one write: options sent back to back in one write still get
     * every reply, each option's in the spec's order (INFO replies before the ACK), the options in turn.
     */
    @Test
    void optionsSentTogetherGetEveryReplyInOrder() throws Exception {
        serve(false, 8);
        server.shutdown(WAIT).block(WAIT);
        server = NbdServer.start(NbdServerConfig.defaults().withSocket(socket),
                new NbdExport("disk", "a test disk", image, null, true)).block(WAIT);
        byte[] name = "disk".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (RawNbdClient c = RawNbdClient.connect(socket)) {
            ByteBuffer all = ByteBuffer.allocate(4 + 16 + 16 + 3 * (16 + 4 + name.length + 2 + 6));
            all.putInt(NbdProtocol.CLIENT_FIXED_NEWSTYLE | NbdProtocol.CLIENT_NO_ZEROES);
            all.putLong(NbdProtocol.IHAVEOPT).putInt(NbdProtocol.OPT_STRUCTURED_REPLY).putInt(0);
            all.putLong(NbdProtocol.IHAVEOPT).putInt(NbdProtocol.OPT_LIST).putInt(0);
            for (int option : new int[] {NbdProtocol.OPT_INFO, NbdProtocol.OPT_INFO, NbdProtocol.OPT_GO}) {
                all.putLong(NbdProtocol.IHAVEOPT).putInt(option).putInt(4 + name.length + 2 + 6)
                        .putInt(name.length).put(name).putShort((short) 3).putShort((short) NbdProtocol.INFO_NAME)
                        .putShort((short) NbdProtocol.INFO_DESCRIPTION).putShort((short) NbdProtocol.INFO_BLOCK_SIZE);
            }
            c.send(all.flip());
            assertEquals(List.of(NbdProtocol.REP_ACK), types(c.answers(), NbdProtocol.OPT_STRUCTURED_REPLY));
            assertEquals(List.of(NbdProtocol.REP_SERVER, NbdProtocol.REP_ACK), types(c.answers(), NbdProtocol.OPT_LIST));
            for (int option : new int[] {NbdProtocol.OPT_INFO, NbdProtocol.OPT_INFO, NbdProtocol.OPT_GO}) {
                List<RawNbdClient.OptionAnswer> replies = c.answers();
                assertEquals(List.of(NbdProtocol.REP_INFO, NbdProtocol.REP_INFO, NbdProtocol.REP_INFO,
                        NbdProtocol.REP_INFO, NbdProtocol.REP_ACK), types(replies, option));
                List<Integer> infos = replies.subList(0, 4).stream()
                        .map(r -> (int) ByteBuffer.wrap(r.data()).getShort()).toList();
                assertEquals(List.of(NbdProtocol.INFO_EXPORT, NbdProtocol.INFO_NAME, NbdProtocol.INFO_DESCRIPTION,
                        NbdProtocol.INFO_BLOCK_SIZE), infos);
                assertEquals(SIZE, ByteBuffer.wrap(replies.get(0).data()).getLong(2));
                assertEquals("a test disk", RawNbdClient.text(Arrays.copyOfRange(replies.get(2).data(), 2,
                        replies.get(2).data().length)));
            }
            c.request(0, NbdProtocol.CMD_READ, 7, 8 << 20, 4096);
            RawNbdClient.Answer a = c.answer();
            assertEquals(7, a.cookie());
            assertEquals(NbdProtocol.CHUNK_OFFSET_DATA, a.type());
            assertArrayEquals(Arrays.copyOfRange(data, 8 << 20, (8 << 20) + 4096),
                    Arrays.copyOfRange(a.payload(), 8, a.payload().length));
        }
    }

    /** The types of the replies to one option, each checked to echo that option. */
    private static List<Integer> types(List<RawNbdClient.OptionAnswer> replies, int option) {
        for (RawNbdClient.OptionAnswer r : replies) {
            assertEquals(option, r.option());
        }
        return replies.stream().map(RawNbdClient.OptionAnswer::type).toList();
    }

    /** DISC with nothing running closes at once; a request sent after it, in the same write, is not served. */
    @Test
    void disconnectWithNothingRunningClosesAndServesNothingAfterIt() throws Exception {
        serve(false, 8);
        try (RawNbdClient c = RawNbdClient.transmission(socket, false)) {
            c.send(ByteBuffer.allocate(56).putInt(NbdProtocol.REQUEST_MAGIC).putShort((short) 0)
                    .putShort((short) NbdProtocol.CMD_DISC).putLong(1).putLong(0).putInt(0)
                    .putInt(NbdProtocol.REQUEST_MAGIC).putShort((short) 0).putShort((short) NbdProtocol.CMD_READ)
                    .putLong(2).putLong(0).putInt(512).flip());
            assertTrue(c.closedByServer(), "no reply after DISC, only the close");
        }
        Await.until(WAIT, "the connection to close", () -> server.connections() == 0);
        stillServes();
    }

    @Test
    void badRequestsGetTheSpecsErrorsAndTheConnectionGoesOn() throws Exception {
        serve(true, 8);
        for (boolean structured : new boolean[] {false, true}) {
            try (RawNbdClient c = RawNbdClient.transmission(socket, structured)) {
                c.request(0, 42, 1, 0, 512); // unknown command
                assertEquals(NbdProtocol.EINVAL, c.answer().errorValue());
                c.request(0, NbdProtocol.CMD_READ, 2, 0, 0xffff_ffffL); // length 2^32-1
                assertEquals(NbdProtocol.EINVAL, c.answer().errorValue());
                c.request(0, NbdProtocol.CMD_READ, 3, Long.MAX_VALUE - 511, 512); // offset near 2^63
                assertEquals(NbdProtocol.EINVAL, c.answer().errorValue());
                c.request(0, NbdProtocol.CMD_READ, 4, -512, 512); // offset past 2^63
                assertEquals(NbdProtocol.EINVAL, c.answer().errorValue());
                c.request(0, NbdProtocol.CMD_TRIM, 5, SIZE - 512, 1024);
                assertEquals(NbdProtocol.EINVAL, c.answer().errorValue());
                c.request(0, NbdProtocol.CMD_WRITE_ZEROES, 6, SIZE - 512, 1024);
                assertEquals(NbdProtocol.ENOSPC, c.answer().errorValue());
                c.request(NbdProtocol.CMD_FLAG_REQ_ONE, NbdProtocol.CMD_READ, 7, 0, 512); // flag of another command
                assertEquals(NbdProtocol.EINVAL, c.answer().errorValue());
                c.request(0, NbdProtocol.CMD_BLOCK_STATUS, 8, 0, 512); // no context selected
                assertEquals(NbdProtocol.EINVAL, c.answer().errorValue());
                c.request(NbdProtocol.CMD_FLAG_FAST_ZERO | NbdProtocol.CMD_FLAG_NO_HOLE,
                        NbdProtocol.CMD_WRITE_ZEROES, 9, 0, 4096);
                assertEquals(NbdProtocol.ENOTSUP, c.answer().errorValue());
                // a write of 2^32-1 bytes is beyond the maximum payload: refused at once, and its
                // bytes would be skipped as they come, never gathered
                c.request(0, NbdProtocol.CMD_WRITE, 10, 0, 0xffff_ffffL);
                assertEquals(NbdProtocol.EINVAL, c.answer().errorValue());
            }
        }
        stillServes();
        Await.until(WAIT, "no request data held", () -> server.bytesInFlight() == 0);
    }

    @Test
    void writesToAReadOnlyExportGetEperm() throws Exception {
        serve(false, 8);
        try (RawNbdClient c = RawNbdClient.transmission(socket, true)) {
            c.request(0, NbdProtocol.CMD_WRITE, 1, 0, 4);
            c.send(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
            assertEquals(NbdProtocol.EPERM, c.answer().errorValue());
            c.request(0, NbdProtocol.CMD_WRITE_ZEROES, 2, 0, 4096);
            assertEquals(NbdProtocol.EPERM, c.answer().errorValue());
            c.request(0, NbdProtocol.CMD_FLUSH, 3, 0, 0);
            assertEquals(0, c.answer().errorValue());
        }
        assertEquals(0, image.writes());
    }

    @Test
    void disconnectAnswersTheRequestsBeforeItThenCloses() throws Exception {
        serve(false, 8);
        image.delay(Duration.ofMillis(200));
        try (RawNbdClient c = RawNbdClient.transmission(socket, false)) {
            for (int i = 0; i < 4; i++) {
                c.request(0, NbdProtocol.CMD_READ, i, (long) i << 20, 4096);
            }
            c.request(0, NbdProtocol.CMD_DISC, 9, 0, 0);
            java.util.Set<Long> answered = new java.util.HashSet<>();
            for (int i = 0; i < 4; i++) {
                RawNbdClient.Answer a = c.answer();
                assertEquals(0, a.errorValue());
                int k = (int) a.cookie();
                assertArrayEquals(Arrays.copyOfRange(data, k << 20, (k << 20) + 4096), c.data(4096));
                answered.add(a.cookie());
            }
            assertEquals(java.util.Set.of(0L, 1L, 2L, 3L), answered);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void badRequestMagicClosesThatConnectionOnly() throws Exception {
        serve(false, 8);
        try (RawNbdClient c = RawNbdClient.transmission(socket, false)) {
            c.send(ByteBuffer.allocate(28).putInt(0, 0xdeadbeef));
            assertTrue(c.closedByServer());
        }
        stillServes();
    }

    @Test
    void structuredReadsSendHolesForZeroRanges() throws Exception {
        serve(false, 8);
        try (RawNbdClient c = RawNbdClient.transmission(socket, true)) {
            c.request(0, NbdProtocol.CMD_READ, 5, (3 << 20), 2 << 20);
            RawNbdClient.Answer first = c.answer();
            RawNbdClient.Answer second = c.answer();
            assertEquals(NbdProtocol.CHUNK_OFFSET_DATA, first.type());
            assertEquals(3L << 20, ByteBuffer.wrap(first.payload()).getLong());
            assertArrayEquals(Arrays.copyOfRange(data, 3 << 20, 4 << 20),
                    Arrays.copyOfRange(first.payload(), 8, first.payload().length));
            assertEquals(NbdProtocol.CHUNK_OFFSET_HOLE, second.type());
            ByteBuffer hole = ByteBuffer.wrap(second.payload());
            assertEquals(4L << 20, hole.getLong());
            assertEquals(1 << 20, hole.getInt());
            assertTrue(second.done());
        }
    }

    @Test
    void aClientSilentInTheHandshakeOrIdleIsDisconnected() throws Exception {
        serve(false, NbdServerConfig.defaults().withTimeouts(Duration.ofMillis(500), Duration.ofMillis(700)));
        try (RawNbdClient silent = RawNbdClient.connect(socket);
             RawNbdClient idle = RawNbdClient.transmission(socket, false)) {
            assertTrue(silent.closedByServer(), "handshake timeout");
            assertTrue(idle.closedByServer(), "idle timeout");
        }
        Await.until(WAIT, "every connection closed", () -> server.connections() == 0);
    }

    @Test
    void connectionsBeyondTheBoundAreRefusedAndTheOthersServed() throws Exception {
        serve(false, 2);
        try (RawNbdClient a = RawNbdClient.transmission(socket, false);
             RawNbdClient b = RawNbdClient.transmission(socket, false)) {
            try (var third = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
                third.connect(java.net.UnixDomainSocketAddress.of(socket));
                assertEquals(-1, third.read(ByteBuffer.allocate(18)), "refused before any greeting");
            }
            a.request(0, NbdProtocol.CMD_READ, 1, 0, 16);
            assertEquals(0, a.answer().errorValue());
            assertArrayEquals(Arrays.copyOf(data, 16), a.data(16));
        }
    }

    @Test
    void sixtyFourClientsReadingAtOnceGetTheirData() {
        serve(false, 64);
        List<NbdClient> clients = Flux.range(0, 64)
                .flatMap(i -> NbdClient.connect(NbdAddress.parse(server.uri("")),
                        NbdClientOptions.defaults().withConnections(1)))
                .collectList().block(WAIT);
        try {
            assertEquals(64, server.connections());
            List<byte[]> results = Flux.fromIterable(clients)
                    .flatMap(c -> {
                        ByteBuffer all = ByteBuffer.allocateDirect(SIZE);
                        return Flux.range(0, SIZE / (1 << 20))
                                .flatMap(k -> c.read((long) k << 20, all.slice(k << 20, 1 << 20)), 4)
                                .then(reactor.core.publisher.Mono.fromCallable(() -> {
                                    byte[] b = new byte[SIZE];
                                    all.get(0, b);
                                    return b;
                                }));
                    })
                    .subscribeOn(Schedulers.parallel())
                    .collectList().block(Duration.ofSeconds(90));
            assertEquals(64, results.size());
            for (byte[] r : results) {
                assertArrayEquals(data, r);
            }
        } finally {
            Flux.fromIterable(clients).flatMap(NbdClient::closeGracefully).blockLast(WAIT);
        }
        Await.until(WAIT, "every connection closed", () -> server.connections() == 0);
        assertEquals(0, server.bytesInFlight());
    }

    /**
     * WRITE payloads that arrive in many small reads, with a header cut across two of them and a
     * request sent in the same write as a payload's tail (the decoder gathers what it receives as
     * the parts of one composite buffer, not copied together), land whole and in order.
     */
    @Test
    void writesArrivingInDribblesLandWhole() throws Exception {
        serve(true, 8);
        byte[] first = new byte[300_000];
        byte[] second = new byte[5000];
        new SplittableRandom(11).nextBytes(first);
        new SplittableRandom(12).nextBytes(second);
        ByteBuffer stream = ByteBuffer.allocate(2 * 28 + first.length + second.length + 28);
        stream.putInt(NbdProtocol.REQUEST_MAGIC).putShort((short) 0).putShort((short) NbdProtocol.CMD_WRITE)
                .putLong(1).putLong(12_345).putInt(first.length).put(first);
        stream.putInt(NbdProtocol.REQUEST_MAGIC).putShort((short) 0).putShort((short) NbdProtocol.CMD_WRITE)
                .putLong(2).putLong(12_345 + first.length + 100).putInt(second.length).put(second);
        stream.putInt(NbdProtocol.REQUEST_MAGIC).putShort((short) 0).putShort((short) NbdProtocol.CMD_FLUSH)
                .putLong(3).putLong(0).putInt(0);
        stream.flip();
        try (RawNbdClient c = RawNbdClient.transmission(socket, false)) {
            // 7001 bytes at a time: every piece boundary falls somewhere else in a header or payload
            while (stream.hasRemaining()) {
                c.send(stream.slice().limit(Math.min(7001, stream.remaining())));
                stream.position(Math.min(stream.limit(), stream.position() + 7001));
            }
            java.util.Set<Long> answered = new java.util.HashSet<>();
            for (int i = 0; i < 3; i++) {
                RawNbdClient.Answer a = c.answer();
                assertEquals(0, a.errorValue(), "request " + a.cookie());
                answered.add(a.cookie());
            }
            assertEquals(java.util.Set.of(1L, 2L, 3L), answered);
        }
        byte[] expected = Arrays.copyOf(data, SIZE);
        System.arraycopy(first, 0, expected, 12_345, first.length);
        System.arraycopy(second, 0, expected, 12_345 + first.length + 100, second.length);
        try (RawNbdClient c = RawNbdClient.transmission(socket, false)) {
            c.request(0, NbdProtocol.CMD_READ, 4, 0, 1 << 20);
            assertEquals(0, c.answer().errorValue());
            assertArrayEquals(Arrays.copyOf(expected, 1 << 20), c.data(1 << 20));
        }
        Await.until(WAIT, "every data buffer back", () -> server.bufferBytesHeld() == 0);
    }

    @Test
    void clientsThatHangUpMidWriteLeaveNothingHeld() throws Exception {
        // a budget of 32 MiB: of 9 writes of 4 MiB, 8 run on the sink and the last waits for room (more
        // would not even be read: the connection stops reading while a request waits)
        serve(true, NbdServerConfig.defaults().withBufferMemory(32 << 20));
        // a sink slower than the test: every write still runs when its client hangs up
        image.delay(Duration.ofSeconds(20));
        // one hangs up inside a payload, one while its writes run or wait
        try (RawNbdClient c = RawNbdClient.transmission(socket, false)) {
            c.request(0, NbdProtocol.CMD_WRITE, 1, 0, 1 << 20);
            c.send(ByteBuffer.allocate(300_000));
        }
        try (RawNbdClient c = RawNbdClient.transmission(socket, true)) {
            for (int i = 0; i < 9; i++) {
                c.request(0, NbdProtocol.CMD_WRITE, i, (long) (i % 4) << 22, 4 << 20);
                c.send(ByteBuffer.allocate(4 << 20));
                if (i == 7) {
                    Await.until(WAIT, "the budget full", () -> server.bytesInFlight() == 32 << 20);
                }
            }
        }
        Await.until(WAIT, "every connection closed", () -> server.connections() == 0);
        Await.until(WAIT, "no request data held", () -> server.bytesInFlight() == 0);
        Await.until(WAIT, "every data buffer back", () -> server.bufferBytesHeld() == 0);
        image.delay(Duration.ZERO);
        stillServes();
    }
}
