package io.extentflow.engine.nbd.message;

import io.extentflow.engine.nbd.message.reply.BlockStatusChunk;
import io.extentflow.engine.nbd.message.reply.DataChunk;
import io.extentflow.engine.nbd.message.reply.ErrorChunk;
import io.extentflow.engine.nbd.message.reply.Greeting;
import io.extentflow.engine.nbd.message.reply.HoleChunk;
import io.extentflow.engine.nbd.message.reply.NoneChunk;
import io.extentflow.engine.nbd.message.reply.OptionReply;
import io.extentflow.engine.nbd.message.reply.Reply;
import io.extentflow.engine.nbd.message.reply.SimpleReply;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Cuts the server's byte stream into messages: the {@link Greeting}, {@link OptionReply}s during the
 * handshake, then {@link Reply}s. It switches to the transmission phase by itself after the ACK of
 * {@code NBD_OPT_GO}, and to 32-byte extended reply headers after the ACK of
 * {@code NBD_OPT_EXTENDED_HEADERS}.
 *
 * <p>Read data is not gathered: an {@code OFFSET_DATA} payload is handed on in {@link DataChunk}
 * pieces as bytes arrive, so a 32 MiB read never needs a 32 MiB staging buffer. The pieces are
 * slices of whatever buffer the channel read into, which may be the read's own target (see
 * {@link #payloadExpected()}). Everything else is small and decoded whole. Lengths are checked
 * before anything is buffered: a peer cannot make us allocate more than {@link #MAX_METADATA}
 * bytes for one message.
 */
public final class NbdFrameDecoder extends ByteToMessageDecoder {

    /** Largest option reply or non-data chunk payload accepted (block status: 2^20 descriptors). */
    public static final int MAX_METADATA = 16 << 20;
    /** Largest read data chunk accepted; servers cap payloads at 32 MiB (qemu) or 64 MiB (nbdkit). */
    public static final long MAX_DATA = (64L << 20) + 8;

    private enum State { GREETING, OPTION_REPLY, TRANSMISSION, DATA_PAYLOAD, FAILED }

    private State state = State.GREETING;
    /** Extended headers were agreed (ACK to NBD_OPT_EXTENDED_HEADERS): 32-byte reply headers. */
    private boolean extended;
    private long dataCookie;
    private long dataOffset;
    private long dataRemaining;
    private boolean dataDone;

    /**
     * Bytes of an {@code OFFSET_DATA} payload still to come when nothing else is buffered, so the
     * next bytes off the socket are exactly those (at most this many); 0 otherwise. With
     * {@link #payloadCookie()} and {@link #payloadOffset()} it tells where they belong, so they can
     * be received straight into the read's target.
     */
    public long payloadExpected() {
        return state == State.DATA_PAYLOAD && actualReadableBytes() == 0 ? dataRemaining : 0;
    }

    /** Between replies, the bytes of the next reply already buffered (0 at a boundary); -1 in other states. */
    public int replyBytesBuffered() {
        return state == State.TRANSMISSION ? actualReadableBytes() : -1;
    }

    /** Bytes of a data chunk's header and offset: a socket read of this size ends where its payload starts. */
    public int dataChunkPrefix() {
        return (extended ? NbdProtocol.EXTENDED_CHUNK_HEADER_SIZE : NbdProtocol.CHUNK_HEADER_SIZE) + 8;
    }

    /** The cookie of the read whose payload is arriving; meaningful while {@link #payloadExpected()} is not 0. */
    public long payloadCookie() {
        return dataCookie;
    }

    /** The export offset of the payload's next byte; meaningful while {@link #payloadExpected()} is not 0. */
    public long payloadOffset() {
        return dataOffset;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        switch (state) {
            case GREETING -> decodeGreeting(in, out);
            case OPTION_REPLY -> decodeOptionReply(in, out);
            case TRANSMISSION -> decodeReply(in, out);
            case DATA_PAYLOAD -> decodeData(in, out);
            case FAILED -> in.skipBytes(in.readableBytes());
        }
    }

    private void decodeGreeting(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 16) {
            return;
        }
        long magic = in.getLong(in.readerIndex());
        long second = in.getLong(in.readerIndex() + 8);
        if (magic != NbdProtocol.NBDMAGIC) {
            throw fail("not an NBD server: bad greeting magic 0x" + Long.toHexString(magic));
        }
        if (second == NbdProtocol.OLDSTYLE_MAGIC) {
            throw fail("the server uses the obsolete oldstyle handshake, which is not supported");
        }
        if (second != NbdProtocol.IHAVEOPT) {
            throw fail("bad handshake magic 0x" + Long.toHexString(second));
        }
        if (in.readableBytes() < Greeting.SIZE) {
            return;
        }
        in.skipBytes(16);
        out.add(new Greeting(in.readUnsignedShort()));
        state = State.OPTION_REPLY;
    }

    private void decodeOptionReply(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 20) {
            return;
        }
        int at = in.readerIndex();
        long magic = in.getLong(at);
        if (magic != NbdProtocol.OPTION_REPLY_MAGIC) {
            throw fail("bad option reply magic 0x" + Long.toHexString(magic));
        }
        long length = in.getUnsignedInt(at + 16);
        if (length > MAX_METADATA) {
            throw fail("option reply of " + length + " bytes is too long");
        }
        if (in.readableBytes() < 20 + length) {
            return;
        }
        in.skipBytes(8);
        int option = in.readInt();
        int type = in.readInt();
        in.skipBytes(4);
        byte[] data = new byte[(int) length];
        in.readBytes(data);
        out.add(new OptionReply(option, type, data));
        if (option == NbdProtocol.OPT_EXTENDED_HEADERS && type == NbdProtocol.REP_ACK) {
            extended = true;
        }
        if (option == NbdProtocol.OPT_GO && type == NbdProtocol.REP_ACK) {
            state = State.TRANSMISSION;
        }
    }

    private void decodeReply(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        int at = in.readerIndex();
        int magic = in.getInt(at);
        int headerSize;
        int flags;
        int type;
        long cookie;
        long length;
        if (extended) {
            if (magic != NbdProtocol.EXTENDED_REPLY_MAGIC) {
                throw fail("bad extended reply magic 0x" + Integer.toHexString(magic));
            }
            headerSize = NbdProtocol.EXTENDED_CHUNK_HEADER_SIZE;
            if (in.readableBytes() < headerSize) {
                return;
            }
            length = in.getLong(at + 24);
            if (length < 0) {
                throw fail("reply chunk with impossible length " + Long.toUnsignedString(length));
            }
        } else {
            if (magic == NbdProtocol.SIMPLE_REPLY_MAGIC) {
                if (in.readableBytes() < NbdProtocol.SIMPLE_REPLY_SIZE) {
                    return;
                }
                in.skipBytes(4);
                int error = in.readInt();
                out.add(new SimpleReply(in.readLong(), error));
                return;
            }
            if (magic != NbdProtocol.STRUCTURED_REPLY_MAGIC) {
                throw fail("bad reply magic 0x" + Integer.toHexString(magic));
            }
            headerSize = NbdProtocol.CHUNK_HEADER_SIZE;
            if (in.readableBytes() < headerSize) {
                return;
            }
            length = in.getUnsignedInt(at + 16);
        }
        flags = in.getUnsignedShort(at + 4);
        type = in.getUnsignedShort(at + 6);
        cookie = in.getLong(at + 8);
        boolean done = (flags & NbdProtocol.REPLY_FLAG_DONE) != 0;
        if (type == NbdProtocol.CHUNK_OFFSET_DATA) {
            if (length < 9 || length > MAX_DATA) {
                throw fail("data chunk with impossible length " + length);
            }
            if (in.readableBytes() < headerSize + 8) {
                return;
            }
            in.skipBytes(headerSize);
            dataCookie = cookie;
            dataOffset = in.readLong();
            dataRemaining = length - 8;
            dataDone = done;
            state = State.DATA_PAYLOAD;
            decodeData(in, out);
            return;
        }
        if (length > MAX_METADATA) {
            throw fail("reply chunk of type " + type + " with impossible length " + length);
        }
        if (in.readableBytes() < headerSize + length) {
            return;
        }
        in.skipBytes(headerSize);
        ByteBuf payload = in.readSlice((int) length);
        out.add(chunk(type, cookie, done, payload));
    }

    private Reply chunk(int type, long cookie, boolean done, ByteBuf p) {
        int length = p.readableBytes();
        switch (type) {
            case NbdProtocol.CHUNK_NONE -> {
                if (length != 0) {
                    throw fail("NONE chunk with a payload of " + length + " bytes");
                }
                return new NoneChunk(cookie, done);
            }
            case NbdProtocol.CHUNK_OFFSET_HOLE -> {
                if (length != 12) {
                    throw fail("hole chunk with length " + length + ", expected 12");
                }
                return new HoleChunk(cookie, done, p.readLong(), p.readUnsignedInt());
            }
            case NbdProtocol.CHUNK_BLOCK_STATUS -> {
                if (length < 12 || (length - 4) % 8 != 0) {
                    throw fail("block status chunk with impossible length " + length);
                }
                int context = p.readInt();
                int n = (length - 4) / 8;
                long[] lengths = new long[n];
                int[] flags = new int[n];
                for (int i = 0; i < n; i++) {
                    lengths[i] = p.readUnsignedInt();
                    flags[i] = p.readInt();
                }
                return new BlockStatusChunk(cookie, done, context, lengths, flags);
            }
            case NbdProtocol.CHUNK_BLOCK_STATUS_EXT -> {
                if (!extended || length < 8 + 16 || (length - 8) % 16 != 0) {
                    throw fail("extended block status chunk with impossible length " + length
                            + (extended ? "" : " (extended headers were not agreed)"));
                }
                int context = p.readInt();
                int count = p.readInt();
                int n = (length - 8) / 16;
                if (count != n) {
                    throw fail("extended block status chunk says " + count + " descriptors but holds " + n);
                }
                long[] lengths = new long[n];
                int[] flags = new int[n];
                for (int i = 0; i < n; i++) {
                    lengths[i] = p.readLong();
                    long status = p.readLong();
                    if (lengths[i] < 0 || status < 0 || status > 0xffff_ffffL) {
                        throw fail("extended block status descriptor out of range");
                    }
                    flags[i] = (int) status;
                }
                return new BlockStatusChunk(cookie, done, context, lengths, flags);
            }
            default -> {
                if ((type & NbdProtocol.CHUNK_FLAG_ERROR) == 0) {
                    throw fail("unknown reply chunk type " + type);
                }
                if (length < 6) {
                    throw fail("error chunk with length " + length + ", expected at least 6");
                }
                int error = p.readInt();
                int messageLength = p.readUnsignedShort();
                if (messageLength > p.readableBytes()) {
                    throw fail("error chunk message of " + messageLength + " bytes does not fit the chunk");
                }
                String message = p.readCharSequence(messageLength, StandardCharsets.UTF_8).toString();
                long offset = -1;
                if (type == NbdProtocol.CHUNK_ERROR_OFFSET) {
                    if (p.readableBytes() != 8) {
                        throw fail("ERROR_OFFSET chunk without its offset");
                    }
                    offset = p.readLong();
                }
                return new ErrorChunk(cookie, done, error, message, offset);
            }
        }
    }

    private void decodeData(ByteBuf in, List<Object> out) {
        int n = (int) Math.min(in.readableBytes(), dataRemaining);
        if (n == 0) {
            return;
        }
        ByteBuf piece = in.readRetainedSlice(n);
        dataRemaining -= n;
        boolean last = dataRemaining == 0;
        out.add(new DataChunk(dataCookie, last && dataDone, dataOffset, piece));
        dataOffset += n;
        if (last) {
            state = State.TRANSMISSION;
        }
    }

    private NbdProtocolException fail(String message) {
        state = State.FAILED;
        return new NbdProtocolException(message);
    }
}
