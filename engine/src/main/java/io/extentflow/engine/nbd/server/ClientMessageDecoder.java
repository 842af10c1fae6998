package io.extentflow.engine.nbd.server;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.nbd.message.request.ClientFlags;
import io.extentflow.engine.nbd.message.request.OptionRequest;
import io.extentflow.engine.nbd.message.request.Request;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Cuts a client's byte stream into messages: the client flags, then options, then request headers
 * with their WRITE payloads (compact or, once agreed, extended headers).
 *
 * <p>One message per {@code decode} call: the session handles each before the next is cut, so a
 * phase change it makes (GO, extended headers) applies to the very next bytes. Oversized option data
 * and oversized WRITE payloads are skipped as they arrive, never gathered.
 */
final class ClientMessageDecoder extends ByteToMessageDecoder {

    /** Option data beyond this is refused (NBD_REP_ERR_TOO_BIG) and skipped: strings are at most 4 KiB. */
    static final int MAX_OPTION_DATA = 64 * 1024;

    private enum Phase { FLAGS, OPTIONS, TRANSMISSION, DEAD }

    private final long maxPayload;
    private Phase phase = Phase.FLAGS;
    private boolean extended;
    /** Bytes still to discard (oversized option data or WRITE payload). */
    private long skip;

    /** @param maxPayload the largest WRITE payload taken; larger ones are discarded and refused */
    ClientMessageDecoder(long maxPayload) {
        this.maxPayload = maxPayload;
        // The received buffers are gathered as the components of a composite, not copied into one
        // buffer: a WRITE's payload is a slice that keeps the bytes under it alive until the request
        // handler has copied them into its pieces, and the default (merging) cumulator, finding its
        // buffer still held, copied every byte that came after into a new one: for nbdcopy's 256 KiB
        // WRITEs a fresh unpooled direct buffer per request (a malloc, zeroed), one more copy of every
        // byte written, and a third of the server's Java time (JFR, perf/README.md).
        setCumulator(COMPOSITE_CUMULATOR);
    }

    /** The handshake ended with transmission: requests follow, with extended headers if agreed. */
    void startTransmission(boolean extendedHeaders) {
        this.extended = extendedHeaders;
        this.phase = Phase.TRANSMISSION;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (skip > 0) {
            int n = (int) Math.min(skip, in.readableBytes());
            in.skipBytes(n);
            skip -= n;
            if (skip > 0) {
                return;
            }
        }
        switch (phase) {
            case FLAGS -> {
                if (in.readableBytes() >= ClientFlags.SIZE) {
                    out.add(new ClientFlags(in.readInt()));
                    phase = Phase.OPTIONS;
                }
            }
            case OPTIONS -> decodeOption(in, out);
            case TRANSMISSION -> decodeRequest(in, out);
            case DEAD -> in.skipBytes(in.readableBytes());
        }
    }

    private void decodeOption(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 16) {
            return;
        }
        int at = in.readerIndex();
        long magic = in.getLong(at);
        if (magic != NbdProtocol.IHAVEOPT) {
            malformed(in, out, "option magic 0x" + Long.toHexString(magic) + " is not IHAVEOPT");
            return;
        }
        int option = in.getInt(at + 8);
        long length = in.getUnsignedInt(at + 12);
        if (length > MAX_OPTION_DATA) {
            in.skipBytes(16);
            skip = length;
            out.add(new ClientMessage.OversizedOption(option, length));
            return;
        }
        if (in.readableBytes() < 16 + length) {
            return;
        }
        in.skipBytes(16);
        byte[] data = new byte[(int) length];
        in.readBytes(data);
        out.add(new OptionRequest(option, data));
    }

    private void decodeRequest(ByteBuf in, List<Object> out) {
        int headerSize = extended ? NbdProtocol.EXTENDED_REQUEST_HEADER_SIZE : NbdProtocol.REQUEST_HEADER_SIZE;
        if (in.readableBytes() < headerSize) {
            return;
        }
        int at = in.readerIndex();
        int magic = in.getInt(at);
        int expected = extended ? NbdProtocol.EXTENDED_REQUEST_MAGIC : NbdProtocol.REQUEST_MAGIC;
        if (magic != expected) {
            malformed(in, out, "request magic 0x" + Integer.toHexString(magic) + " is not 0x"
                    + Integer.toHexString(expected));
            return;
        }
        int flags = in.getUnsignedShort(at + 4);
        int command = in.getUnsignedShort(at + 6);
        long cookie = in.getLong(at + 8);
        long offset = in.getLong(at + 16);
        long length = extended ? in.getLong(at + 24) : in.getUnsignedInt(at + 24);
        boolean hasPayload = extended ? (flags & NbdProtocol.CMD_FLAG_PAYLOAD_LEN) != 0
                : command == NbdProtocol.CMD_WRITE;
        if (extended && command == NbdProtocol.CMD_WRITE) {
            hasPayload = true; // a WRITE's length always counts its payload
        }
        if (length < 0) {
            // a 64-bit length of 2^63 or more: no payload of that size can be followed
            malformed(in, out, "request length " + Long.toUnsignedString(length) + " is beyond any payload");
            return;
        }
        if (!hasPayload) {
            in.skipBytes(headerSize);
            out.add(new ClientMessage.Command(new Request(flags, command, cookie, offset, length), null, false));
            return;
        }
        if (length > maxPayload) {
            in.skipBytes(headerSize);
            skip = length;
            out.add(new ClientMessage.Command(new Request(flags, command, cookie, offset, length), null, true));
            return;
        }
        if (in.readableBytes() < headerSize + length) {
            return;
        }
        in.skipBytes(headerSize);
        ByteBuf payload = in.readRetainedSlice((int) length);
        out.add(new ClientMessage.Command(new Request(flags, command, cookie, offset, length), payload, false));
    }

    private void malformed(ByteBuf in, List<Object> out, String reason) {
        phase = Phase.DEAD;
        in.skipBytes(in.readableBytes());
        out.add(new ClientMessage.Malformed(reason));
    }
}
