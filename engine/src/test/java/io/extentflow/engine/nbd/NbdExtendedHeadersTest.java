package io.extentflow.engine.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NettyLeaks;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extended headers. No server installed here offers them (qemu 7.2, nbdkit 1.32), so the wire format
 * is checked against the hand-written server, and the fallback against the real ones.
 */
@ExtendWith(NettyLeaks.class)
class NbdExtendedHeadersTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int FLAGS = NbdProtocol.TF_HAS_FLAGS | NbdProtocol.TF_SEND_FLUSH
            | NbdProtocol.TF_SEND_WRITE_ZEROES;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    private static void respond(io.netty.channel.ChannelHandlerContext ctx, int cmd, long cookie, long off, long len) {
        switch (cmd) {
            case NbdProtocol.CMD_READ -> {
                ByteBuf b = FakeNbdServer.extendedChunkHeader(ctx, NbdProtocol.REPLY_FLAG_DONE,
                        NbdProtocol.CHUNK_OFFSET_DATA, cookie, off, 8 + len).writeLong(off);
                for (long i = 0; i < len; i++) {
                    b.writeByte((int) ((off + i) % 251));
                }
                ctx.writeAndFlush(b);
            }
            case NbdProtocol.CMD_BLOCK_STATUS -> {
                // two descriptors with 64-bit lengths: data, then a hole running past the request
                ByteBuf b = FakeNbdServer.extendedChunkHeader(ctx, NbdProtocol.REPLY_FLAG_DONE,
                        NbdProtocol.CHUNK_BLOCK_STATUS_EXT, cookie, off, 8 + 32)
                        .writeInt(FakeNbdServer.CONTEXT_ID).writeInt(2)
                        .writeLong(65536).writeLong(0)
                        .writeLong(5L << 32).writeLong(3);
                ctx.writeAndFlush(b);
            }
            default -> ctx.writeAndFlush(FakeNbdServer.extendedChunkHeader(ctx, NbdProtocol.REPLY_FLAG_DONE,
                    NbdProtocol.CHUNK_NONE, cookie, off, 0));
        }
    }

    @Test
    void extendedHeadersAreUsedWhenOffered() {
        long size = 8L << 32;
        try (var f = new FakeNbdServer(dir.resolve("f.sock"), size, FLAGS, true,
                NbdExtendedHeadersTest::respond)) {
            NbdClient c = NbdClient.connect(NbdAddress.parse(f.uri()), NbdClientOptions.defaults()).block(WAIT);
            try {
                assertTrue(c.info().extendedHeaders());
                ByteBuffer b = ByteBuffer.allocateDirect(10000);
                c.read(12345, b).block(WAIT);
                b.flip();
                for (int i = 0; i < 10000; i++) {
                    assertEquals((byte) ((12345 + i) % 251), b.get(i), "byte " + i);
                }
                List<NbdExtent> status = c.blockStatus(0, 1 << 20).block(WAIT)
                        .get(NbdProtocol.CONTEXT_BASE_ALLOCATION);
                assertEquals(List.of(new NbdExtent(0, 65536, 0), new NbdExtent(65536, 5L << 32, 3)), status);

                // a write's header says its length is a payload length; the server parses the next
                // request correctly only if header and payload had the agreed sizes
                c.write(4096, ByteBuffer.allocateDirect(3000)).block(WAIT);
                c.flush().block(WAIT);
                int writeFlags = f.requestFlags.get(f.requestFlags.size() - 2);
                assertEquals(NbdProtocol.CMD_FLAG_PAYLOAD_LEN, writeFlags & NbdProtocol.CMD_FLAG_PAYLOAD_LEN);
                assertEquals(0, f.requestFlags.get(f.requestFlags.size() - 1) & NbdProtocol.CMD_FLAG_PAYLOAD_LEN);
            } finally {
                c.closeGracefully().block(WAIT);
            }
        }
    }

    @Test
    void aCompactReplyAfterExtendedHeadersIsMalformed() {
        try (var f = new FakeNbdServer(dir.resolve("f.sock"), 1 << 20, FLAGS, true,
                (ctx, cmd, cookie, off, len) -> FakeNbdServer.simple(ctx, cookie, 0))) {
            NbdClient c = NbdClient.connect(NbdAddress.parse(f.uri()), NbdClientOptions.defaults().withRetries(0))
                    .block(WAIT);
            try {
                reactor.test.StepVerifier.create(c.flush())
                        .expectErrorSatisfies(t -> assertTrue(t.getMessage().contains("bad extended reply magic"),
                                t.getMessage()))
                        .verify(WAIT);
            } finally {
                c.closeGracefully().block(WAIT);
            }
        }
    }

    @Test
    void realServersWithoutExtendedHeadersFallBackToStructuredReplies() throws Exception {
        var s = servers.nbdkit(dir, "memory", "1M");
        NbdClient c = NbdClient.connect(NbdAddress.parse(s.uri()), NbdClientOptions.defaults()).block(WAIT);
        try {
            assertFalse(c.info().extendedHeaders());
            c.read(0, ByteBuffer.allocateDirect(4096)).block(WAIT);
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }
}
