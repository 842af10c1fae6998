package io.extentflow.engine.nbd.message;

import io.netty.buffer.ByteBuf;

/**
 * The compact 28-byte request header of the transmission phase. A WRITE's payload follows it.
 *
 * @param flags   command flags, e.g. {@link NbdProtocol#CMD_FLAG_NO_HOLE}
 * @param command command type, e.g. {@link NbdProtocol#CMD_READ}
 * @param cookie  chosen by the client, unique among requests in flight; echoed by the reply
 * @param offset  first byte
 * @param length  bytes (an unsigned 32-bit value on the wire)
 */
public record Request(int flags, int command, long cookie, long offset, long length) {

    public Request {
        if (length < 0 || length > 0xffff_ffffL) {
            throw new IllegalArgumentException("request length " + length + " does not fit 32 bits");
        }
    }

    /** Writes the header into {@code out}. */
    public ByteBuf encode(ByteBuf out) {
        return out.writeInt(NbdProtocol.REQUEST_MAGIC).writeShort(flags).writeShort(command)
                .writeLong(cookie).writeLong(offset).writeInt((int) length);
    }
}
