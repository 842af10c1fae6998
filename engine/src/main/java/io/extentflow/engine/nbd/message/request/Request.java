package io.extentflow.engine.nbd.message.request;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.netty.buffer.ByteBuf;

/**
 * A request header of the transmission phase: compact (28 bytes, 32-bit length) or, once extended
 * headers are agreed, extended (32 bytes, 64-bit length). A WRITE's payload follows it.
 *
 * @param flags   command flags, e.g. {@link NbdProtocol#CMD_FLAG_NO_HOLE}
 * @param command command type, e.g. {@link NbdProtocol#CMD_READ}
 * @param cookie  chosen by the client, unique among requests in flight; echoed by the reply
 * @param offset  first byte
 * @param length  bytes (unsigned 32-bit on the wire unless extended)
 */
public record Request(int flags, int command, long cookie, long offset, long length) {

    public Request {
        if (length < 0) {
            throw new IllegalArgumentException("negative request length " + length);
        }
    }

    /** Writes the compact header into {@code out}. */
    public ByteBuf encode(ByteBuf out) {
        if (length > 0xffff_ffffL) {
            throw new IllegalArgumentException("request length " + length + " does not fit 32 bits");
        }
        return out.writeInt(NbdProtocol.REQUEST_MAGIC).writeShort(flags).writeShort(command)
                .writeLong(cookie).writeLong(offset).writeInt((int) length);
    }

    /** Writes the extended header into {@code out}. */
    public ByteBuf encodeExtended(ByteBuf out) {
        return out.writeInt(NbdProtocol.EXTENDED_REQUEST_MAGIC).writeShort(flags).writeShort(command)
                .writeLong(cookie).writeLong(offset).writeLong(length);
    }
}
