package io.extentflow.engine.nbd.message.reply;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One reply of the server to an option: the echoed option, the reply type and its data. Immutable:
 * the data is copied in and handed out read-only.
 */
public final class OptionReply {

    private final int option;
    private final int type;
    private final byte[] data;

    /**
     * @param option the option this answers
     * @param type   {@link NbdProtocol#REP_ACK}, {@link NbdProtocol#REP_INFO}, ... or an error type (bit 31)
     * @param data   the reply's data
     */
    public OptionReply(int option, int type, byte[] data) {
        this.option = option;
        this.type = type;
        this.data = data.clone();
    }

    /** The option this answers. */
    public int option() {
        return option;
    }

    /** The reply type; an error type has bit 31 set. */
    public int type() {
        return type;
    }

    /** Bytes of data. */
    public int length() {
        return data.length;
    }

    /** The data, read-only, big-endian, positioned at its start. */
    public ByteBuffer data() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer();
    }

    /** An error reply: bit 31 of the type is set. */
    public boolean isError() {
        return (type & NbdProtocol.REP_FLAG_ERROR) != 0;
    }

    /** The last reply to an option: an ACK or an error. */
    public boolean isFinal() {
        return type == NbdProtocol.REP_ACK || isError();
    }

    /** The data as text (error replies may carry a message). */
    public String text() {
        return new String(data, StandardCharsets.UTF_8);
    }

    /** The reply on the wire, in a new buffer the caller owns, as a server sends it. */
    public ByteBuf encode(ByteBufAllocator alloc) {
        return encode(alloc.buffer(20 + data.length));
    }

    /** Appends the reply on the wire to {@code out} (a server answering an option with several replies). */
    public ByteBuf encode(ByteBuf out) {
        return out.writeLong(NbdProtocol.OPTION_REPLY_MAGIC).writeInt(option).writeInt(type).writeInt(data.length)
                .writeBytes(data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OptionReply r && r.option == option && r.type == type && Arrays.equals(r.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * option + type) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "OptionReply[option=" + option + ", type=0x" + Integer.toHexString(type) + ", " + data.length
                + " bytes]";
    }
}
