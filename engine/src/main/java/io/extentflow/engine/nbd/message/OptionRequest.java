package io.extentflow.engine.nbd.message;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One option the client sends during the handshake: {@code IHAVEOPT}, the option code, the data length
 * and the data.
 *
 * @param option the option code, e.g. {@link NbdProtocol#OPT_GO}
 * @param data   the option's data (not copied; do not change it)
 */
public record OptionRequest(int option, byte[] data) {

    /** An option without data. */
    public static OptionRequest of(int option) {
        return new OptionRequest(option, new byte[0]);
    }

    /** {@code NBD_OPT_GO} for {@code export}, asking for the listed information types. */
    public static OptionRequest go(String export, int... infos) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = io.netty.buffer.Unpooled.buffer(4 + name.length + 2 + 2 * infos.length);
        b.writeInt(name.length).writeBytes(name).writeShort(infos.length);
        for (int info : infos) {
            b.writeShort(info);
        }
        return new OptionRequest(NbdProtocol.OPT_GO, b.array());
    }

    /** {@code NBD_OPT_SET_META_CONTEXT} for {@code export} with the given queries. */
    public static OptionRequest setMetaContext(String export, List<String> queries) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = io.netty.buffer.Unpooled.buffer();
        b.writeInt(name.length).writeBytes(name).writeInt(queries.size());
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.writeInt(qb.length).writeBytes(qb);
        }
        byte[] data = new byte[b.readableBytes()];
        b.readBytes(data);
        return new OptionRequest(NbdProtocol.OPT_SET_META_CONTEXT, data);
    }

    /** The option on the wire, in a new buffer the caller owns. */
    public ByteBuf encode(ByteBufAllocator alloc) {
        ByteBuf b = alloc.buffer(16 + data.length);
        b.writeLong(NbdProtocol.IHAVEOPT).writeInt(option).writeInt(data.length).writeBytes(data);
        return b;
    }
}
