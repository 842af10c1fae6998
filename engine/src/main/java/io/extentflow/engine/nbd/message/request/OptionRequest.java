package io.extentflow.engine.nbd.message.request;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One option the client sends during the handshake: {@code IHAVEOPT}, the option code, the data length
 * and the data. Immutable: the data is copied in and handed out read-only.
 */
public final class OptionRequest {

    private final int option;
    private final byte[] data;

    /**
     * @param option the option code, e.g. {@link NbdProtocol#OPT_GO}
     * @param data   the option's data
     */
    public OptionRequest(int option, byte[] data) {
        this.option = option;
        this.data = data.clone();
    }

    /** An option without data. */
    public static OptionRequest of(int option) {
        return new OptionRequest(option, new byte[0]);
    }

    /** {@code NBD_OPT_GO} for {@code export}, asking for the listed information types. */
    public static OptionRequest go(String export, int... infos) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + name.length + 2 + 2 * infos.length);
        b.putInt(name.length).put(name).putShort((short) infos.length);
        for (int info : infos) {
            b.putShort((short) info);
        }
        return new OptionRequest(NbdProtocol.OPT_GO, b.array());
    }

    /** {@code NBD_OPT_SET_META_CONTEXT} for {@code export} with the given queries. */
    public static OptionRequest setMetaContext(String export, List<String> queries) {
        return metaContext(NbdProtocol.OPT_SET_META_CONTEXT, export, queries);
    }

    /**
     * {@code NBD_OPT_LIST_META_CONTEXT} for {@code export}: a query naming a namespace
     * ({@code qemu:dirty-bitmap:}) lists every context in it.
     */
    public static OptionRequest listMetaContext(String export, List<String> queries) {
        return metaContext(NbdProtocol.OPT_LIST_META_CONTEXT, export, queries);
    }

    private static OptionRequest metaContext(int option, String export, List<String> queries) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        List<byte[]> qs = queries.stream().map(q -> q.getBytes(StandardCharsets.UTF_8)).toList();
        ByteBuffer b = ByteBuffer.allocate(4 + name.length + 4 + qs.stream().mapToInt(q -> 4 + q.length).sum());
        b.putInt(name.length).put(name).putInt(qs.size());
        for (byte[] q : qs) {
            b.putInt(q.length).put(q);
        }
        return new OptionRequest(option, b.array());
    }

    /** The option code. */
    public int option() {
        return option;
    }

    /** The data, read-only, big-endian, positioned at its start. */
    public ByteBuffer data() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer();
    }

    /** The option on the wire, in a new buffer the caller owns. */
    public ByteBuf encode(ByteBufAllocator alloc) {
        ByteBuf b = alloc.buffer(16 + data.length);
        b.writeLong(NbdProtocol.IHAVEOPT).writeInt(option).writeInt(data.length).writeBytes(data);
        return b;
    }

    @Override
    public String toString() {
        return "OptionRequest[option=" + option + ", " + data.length + " bytes]";
    }
}
