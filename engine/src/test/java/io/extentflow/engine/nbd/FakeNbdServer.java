package io.extentflow.engine.nbd;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.netty.DisposableServer;
import reactor.netty.tcp.TcpServer;

/**
 * A hand-written NBD server for fault injection only: it does a correct handshake (structured
 * replies, base:allocation, one export), then answers each request with whatever the test's
 * {@link Responder} writes, including things no real server sends.
 */
final class FakeNbdServer implements AutoCloseable {

    /** Writes the reply (or nothing) for one request. */
    @FunctionalInterface
    interface Responder {
        void respond(ChannelHandlerContext ctx, int command, long cookie, long offset, long length);
    }

    static final int CONTEXT_ID = 7;

    private final DisposableServer server;
    private final boolean extended;
    /** Command flags of every request received, in order. */
    final java.util.List<Integer> requestFlags = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Path socket;
    final AtomicInteger connections = new AtomicInteger();
    final AtomicInteger requests = new AtomicInteger();

    FakeNbdServer(Path socket, long size, int transmissionFlags, Responder responder) {
        this(socket, size, transmissionFlags, false, responder);
    }

    /**
     * @param extended accept NBD_OPT_EXTENDED_HEADERS: then requests have 32-byte headers and the
     *                 responder must answer with {@link #extendedChunkHeader} chunks
     */
    FakeNbdServer(Path socket, long size, int transmissionFlags, boolean extended, Responder responder) {
        this.socket = socket;
        this.extended = extended;
        this.server = TcpServer.create()
                .bindAddress(() -> new DomainSocketAddress(socket.toString()))
                .doOnChannelInit((o, ch, a) -> ch.pipeline().addFirst(new Handler(size, transmissionFlags, responder)))
                // keep each connection open until one side closes it; our handler does all the talking
                // Reactor Netty reads only on demand of its own inbound stream, which our handler replaces
                .doOnConnection(c -> c.channel().config().setAutoRead(true))
                .handle((in, out) -> reactor.core.publisher.Mono.never())
                .bindNow();
    }

    String uri() {
        return "nbd+unix:///fake?socket=" + socket;
    }

    @Override
    public void close() {
        server.disposeNow();
    }

    // ---- helpers for responders

    static void simple(ChannelHandlerContext ctx, long cookie, int error) {
        ctx.writeAndFlush(ctx.alloc().buffer(16).writeInt(NbdProtocol.SIMPLE_REPLY_MAGIC).writeInt(error)
                .writeLong(cookie));
    }

    static ByteBuf chunkHeader(ChannelHandlerContext ctx, int flags, int type, long cookie, int length) {
        return ctx.alloc().buffer(20 + Math.min(length, 1 << 16)).writeInt(NbdProtocol.STRUCTURED_REPLY_MAGIC).writeShort(flags)
                .writeShort(type).writeLong(cookie).writeInt(length);
    }

    /** A 32-byte extended reply chunk header, for servers that agreed to extended headers. */
    static ByteBuf extendedChunkHeader(ChannelHandlerContext ctx, int flags, int type, long cookie, long offset,
                                      long length) {
        return ctx.alloc().buffer(32 + (int) Math.min(length, 1 << 16)).writeInt(NbdProtocol.EXTENDED_REPLY_MAGIC)
                .writeShort(flags).writeShort(type).writeLong(cookie).writeLong(offset).writeLong(length);
    }

    /** An OFFSET_DATA chunk of {@code length} bytes of {@code fill} at {@code offset}. */
    static void data(ChannelHandlerContext ctx, boolean done, long cookie, long offset, int length, int fill) {
        ByteBuf b = chunkHeader(ctx, done ? NbdProtocol.REPLY_FLAG_DONE : 0, NbdProtocol.CHUNK_OFFSET_DATA, cookie,
                8 + length).writeLong(offset);
        for (int i = 0; i < length; i++) {
            b.writeByte(fill);
        }
        ctx.writeAndFlush(b);
    }

    private final class Handler extends ByteToMessageDecoder {
        private final long size;
        private final int flags;
        private final Responder responder;
        private int state;

        Handler(long size, int flags, Responder responder) {
            this.size = size;
            this.flags = flags;
            this.responder = responder;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            connections.incrementAndGet();
            ctx.writeAndFlush(ctx.alloc().buffer(18).writeLong(NbdProtocol.NBDMAGIC).writeLong(NbdProtocol.IHAVEOPT)
                    .writeShort(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES));
            super.channelActive(ctx);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (state == 0) {
                if (in.readableBytes() < 4) {
                    return;
                }
                in.skipBytes(4);
                state = 1;
            }
            while (state == 1 && in.readableBytes() >= 16) {
                int len = in.getInt(in.readerIndex() + 12);
                if (in.readableBytes() < 16 + len) {
                    return;
                }
                in.skipBytes(8);
                int option = in.readInt();
                in.skipBytes(4 + len);
                switch (option) {
                    case NbdProtocol.OPT_SET_META_CONTEXT -> {
                        byte[] name = NbdProtocol.CONTEXT_BASE_ALLOCATION.getBytes(StandardCharsets.UTF_8);
                        optionReply(ctx, option, NbdProtocol.REP_META_CONTEXT,
                                ctx.alloc().buffer().writeInt(CONTEXT_ID).writeBytes(name));
                        optionReply(ctx, option, NbdProtocol.REP_ACK, ctx.alloc().buffer(0));
                    }
                    case NbdProtocol.OPT_GO -> {
                        optionReply(ctx, option, NbdProtocol.REP_INFO, ctx.alloc().buffer(12)
                                .writeShort(NbdProtocol.INFO_EXPORT).writeLong(size).writeShort(flags));
                        optionReply(ctx, option, NbdProtocol.REP_ACK, ctx.alloc().buffer(0));
                        state = 2;
                    }
                    case NbdProtocol.OPT_STRUCTURED_REPLY -> optionReply(ctx, option, NbdProtocol.REP_ACK,
                            ctx.alloc().buffer(0));
                    case NbdProtocol.OPT_EXTENDED_HEADERS -> optionReply(ctx, option,
                            extended ? NbdProtocol.REP_ACK : NbdProtocol.REP_ERR_UNSUP, ctx.alloc().buffer(0));
                    default -> optionReply(ctx, option, NbdProtocol.REP_ERR_UNSUP, ctx.alloc().buffer(0));
                }
            }
            int headerSize = extended ? 32 : 28;
            while (state == 2 && in.readableBytes() >= headerSize) {
                int flags = in.getUnsignedShort(in.readerIndex() + 4);
                int command = in.getUnsignedShort(in.readerIndex() + 6);
                long length = extended ? in.getLong(in.readerIndex() + 24) : in.getUnsignedInt(in.readerIndex() + 24);
                boolean hasPayload = extended ? (flags & NbdProtocol.CMD_FLAG_PAYLOAD_LEN) != 0
                        : command == NbdProtocol.CMD_WRITE;
                long payload = hasPayload ? length : 0;
                if (in.readableBytes() < headerSize + payload) {
                    return;
                }
                in.skipBytes(8);
                long cookie = in.readLong();
                long offset = in.readLong();
                in.skipBytes(headerSize - 24 + (int) payload);
                if (command == NbdProtocol.CMD_DISC) {
                    ctx.close();
                    return;
                }
                requests.incrementAndGet();
                requestFlags.add(flags);
                responder.respond(ctx, command, cookie, offset, length);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable t) {
            ctx.close();
        }

        private void optionReply(ChannelHandlerContext ctx, int option, int type, ByteBuf data) {
            ByteBuf h = ctx.alloc().buffer(20).writeLong(NbdProtocol.OPTION_REPLY_MAGIC).writeInt(option)
                    .writeInt(type).writeInt(data.readableBytes());
            ctx.write(h);
            ctx.writeAndFlush(data);
        }
    }
}
