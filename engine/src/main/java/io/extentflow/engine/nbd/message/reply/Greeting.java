package io.extentflow.engine.nbd.message.reply;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.netty.buffer.ByteBuf;

/**
 * The server's first message of the fixed newstyle handshake: {@code NBDMAGIC}, {@code IHAVEOPT} and
 * the handshake flags.
 *
 * @param flags handshake flags ({@link NbdProtocol#FLAG_FIXED_NEWSTYLE}, {@link NbdProtocol#FLAG_NO_ZEROES})
 */
public record Greeting(int flags) {

    /** Bytes on the wire. */
    public static final int SIZE = 18;

    public boolean fixedNewstyle() {
        return (flags & NbdProtocol.FLAG_FIXED_NEWSTYLE) != 0;
    }

    public boolean noZeroes() {
        return (flags & NbdProtocol.FLAG_NO_ZEROES) != 0;
    }

    /** Writes the greeting into {@code out}, as a server sends it. */
    public ByteBuf encode(ByteBuf out) {
        return out.writeLong(NbdProtocol.NBDMAGIC).writeLong(NbdProtocol.IHAVEOPT).writeShort(flags);
    }
}
