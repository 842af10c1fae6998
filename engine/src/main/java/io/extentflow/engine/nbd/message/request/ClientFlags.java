package io.extentflow.engine.nbd.message.request;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.netty.buffer.ByteBuf;

/**
 * The client's answer to the greeting: its handshake flags, four bytes.
 *
 * @param flags {@link NbdProtocol#CLIENT_FIXED_NEWSTYLE}, {@link NbdProtocol#CLIENT_NO_ZEROES}
 */
public record ClientFlags(int flags) {

    /** Bytes on the wire. */
    public static final int SIZE = 4;

    public boolean fixedNewstyle() {
        return (flags & NbdProtocol.CLIENT_FIXED_NEWSTYLE) != 0;
    }

    public boolean noZeroes() {
        return (flags & NbdProtocol.CLIENT_NO_ZEROES) != 0;
    }

    /** Writes the flags into {@code out}. */
    public ByteBuf encode(ByteBuf out) {
        return out.writeInt(flags);
    }
}
