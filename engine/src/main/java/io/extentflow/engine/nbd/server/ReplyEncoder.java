package io.extentflow.engine.nbd.server;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.nbd.message.reply.BlockStatusChunk;
import io.extentflow.engine.nbd.message.reply.DataChunk;
import io.extentflow.engine.nbd.message.reply.ErrorChunk;
import io.extentflow.engine.nbd.message.reply.HoleChunk;
import io.extentflow.engine.nbd.message.reply.NoneChunk;
import io.extentflow.engine.nbd.message.reply.Reply;
import io.extentflow.engine.nbd.message.reply.SimpleReply;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The wire form of the transmission replies, as this connection agreed them: simple replies and
 * structured chunks with 20-byte headers, or only chunks with 32-byte headers once extended headers
 * are agreed (which echo the request's offset and carry 64-bit lengths).
 */
final class ReplyEncoder {

    /** Longest error message sent (the field is 16 bits; messages are short anyway). */
    private static final int MAX_MESSAGE = 4096;

    private final ByteBufAllocator alloc;
    private final boolean extended;

    ReplyEncoder(ByteBufAllocator alloc, boolean extended) {
        this.alloc = alloc;
        this.extended = extended;
    }

    /**
     * {@code reply} on the wire, in a buffer the caller owns. A {@link DataChunk}'s data is taken
     * over (not copied): the result releases it.
     *
     * @param requestOffset the offset of the request answered (extended headers echo it)
     */
    ByteBuf encode(Reply reply, long requestOffset) {
        return switch (reply) {
            case SimpleReply r when extended && r.error() == 0 ->
                    header(NbdProtocol.CHUNK_NONE, true, r.cookie(), requestOffset, 0);
            case SimpleReply r when extended ->
                    header(NbdProtocol.CHUNK_ERROR, true, r.cookie(), requestOffset, 6)
                            .writeBytes(errorPayload(r.error(), ""));
            case SimpleReply r -> alloc.buffer(NbdProtocol.SIMPLE_REPLY_SIZE).writeInt(NbdProtocol.SIMPLE_REPLY_MAGIC)
                            .writeInt(r.error()).writeLong(r.cookie());
            case NoneChunk r -> header(NbdProtocol.CHUNK_NONE, true, r.cookie(), requestOffset, 0);
            case HoleChunk r -> header(NbdProtocol.CHUNK_OFFSET_HOLE, r.done(), r.cookie(), requestOffset, 12)
                    .writeLong(r.offset()).writeInt((int) r.length());
            case ErrorChunk r -> {
                byte[] payload = errorPayload(r.error(), r.message());
                yield header(NbdProtocol.CHUNK_ERROR, r.done(), r.cookie(), requestOffset, payload.length)
                        .writeBytes(payload);
            }
            case DataChunk r -> {
                // the data follows in its own buffer: the header's holds the offset alone
                ByteBuf head = header(NbdProtocol.CHUNK_OFFSET_DATA, r.done(), r.cookie(), requestOffset,
                        8L + r.data().readableBytes(), 8).writeLong(r.offset());
                CompositeByteBuf whole = alloc.compositeBuffer(2);
                yield whole.addComponents(true, head, r.data());
            }
            case BlockStatusChunk r -> blockStatus(r, requestOffset);
        };
    }

    /** A READ's data without structured replies: the simple reply then the bytes (taken over). */
    ByteBuf simpleRead(long cookie, ByteBuf data) {
        ByteBuf head = alloc.buffer(NbdProtocol.SIMPLE_REPLY_SIZE).writeInt(NbdProtocol.SIMPLE_REPLY_MAGIC)
                .writeInt(0).writeLong(cookie);
        return alloc.compositeBuffer(2).addComponents(true, head, data);
    }

    private ByteBuf blockStatus(BlockStatusChunk r, long requestOffset) {
        int n = r.count();
        if (extended) {
            ByteBuf b = header(NbdProtocol.CHUNK_BLOCK_STATUS_EXT, r.done(), r.cookie(), requestOffset, 8L + 16L * n);
            b.writeInt(r.contextId()).writeInt(n);
            for (int i = 0; i < n; i++) {
                b.writeLong(r.length(i)).writeLong(Integer.toUnsignedLong(r.flags(i)));
            }
            return b;
        }
        ByteBuf b = header(NbdProtocol.CHUNK_BLOCK_STATUS, r.done(), r.cookie(), requestOffset, 4L + 8L * n);
        b.writeInt(r.contextId());
        for (int i = 0; i < n; i++) {
            b.writeInt((int) r.length(i)).writeInt(r.flags(i));
        }
        return b;
    }

    private ByteBuf header(int type, boolean done, long cookie, long requestOffset, long payloadLength) {
        return header(type, done, cookie, requestOffset, payloadLength, payloadLength);
    }

    /**
     * A chunk header in a buffer with room for {@code inline} bytes of payload after it (what the
     * caller writes there; a data chunk's bytes are a buffer of their own, and a buffer sized for them
     * would cost a 64 KiB allocation per chunk).
     */
    private ByteBuf header(int type, boolean done, long cookie, long requestOffset, long payloadLength, long inline) {
        int flags = done ? NbdProtocol.REPLY_FLAG_DONE : 0;
        int room = (int) Math.min(inline, 1 << 16);
        if (extended) {
            ByteBuf b = alloc.buffer(NbdProtocol.EXTENDED_CHUNK_HEADER_SIZE + room);
            return b.writeInt(NbdProtocol.EXTENDED_REPLY_MAGIC).writeShort(flags).writeShort(type).writeLong(cookie)
                    .writeLong(requestOffset).writeLong(payloadLength);
        }
        ByteBuf b = alloc.buffer(NbdProtocol.CHUNK_HEADER_SIZE + room);
        return b.writeInt(NbdProtocol.STRUCTURED_REPLY_MAGIC).writeShort(flags).writeShort(type).writeLong(cookie)
                .writeInt((int) payloadLength);
    }

    private static byte[] errorPayload(int error, String message) {
        byte[] text = message.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(text.length, MAX_MESSAGE);
        byte[] out = new byte[6 + n];
        out[0] = (byte) (error >>> 24);
        out[1] = (byte) (error >>> 16);
        out[2] = (byte) (error >>> 8);
        out[3] = (byte) error;
        out[4] = (byte) (n >>> 8);
        out[5] = (byte) n;
        System.arraycopy(text, 0, out, 6, n);
        return out;
    }
}
