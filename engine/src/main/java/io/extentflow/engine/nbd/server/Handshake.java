package io.extentflow.engine.nbd.server;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.nbd.message.reply.OptionReply;
import io.extentflow.engine.nbd.message.request.ClientFlags;
import io.extentflow.engine.nbd.message.request.OptionRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The server's side of the fixed newstyle handshake (proto.md "Option haggling"; the same choices as
 * nbdkit's {@code protocol-handshake-newstyle.c}): one option at a time, each answered by its replies
 * ending in an ACK or an error, until {@code NBD_OPT_GO} (or the legacy {@code NBD_OPT_EXPORT_NAME})
 * starts the transmission phase. Unknown and withdrawn options get {@code NBD_REP_ERR_UNSUP} and the
 * handshake goes on; only what cannot be answered (a wrong client flag, a legacy option that cannot
 * carry an error) ends the connection.
 *
 * <p>With TLS configured, every option but {@code STARTTLS} and {@code ABORT} is refused with
 * {@code NBD_REP_ERR_TLS_REQD} until TLS is on; {@code STARTTLS} forgets everything agreed before it.
 */
final class Handshake {

    /** What the connection does after a message. */
    enum Next {
        /** Wait for the next option. */
        CONTINUE,
        /** Close once the replies are out. */
        CLOSE,
        /** The ACK is out; TLS starts on the next byte. */
        STARTTLS,
        /** Requests follow. */
        TRANSMISSION
    }

    private static final int KNOWN_CLIENT_FLAGS = NbdProtocol.CLIENT_FIXED_NEWSTYLE | NbdProtocol.CLIENT_NO_ZEROES;

    private final NbdExport export;
    private final boolean tlsRequired;
    private final ByteBufAllocator alloc;
    private final Consumer<ByteBuf> send;

    /** The replies to the message being answered, sent together once it is answered. */
    private @Nullable ByteBuf pending;
    private boolean tlsActive;
    private boolean noZeroes;
    private boolean structured;
    private boolean extended;
    private List<MetaContexts.Selected> selected = List.of();
    private String refusal = "";

    /**
     * @param export      the export served
     * @param tlsRequired TLS is configured, and required before anything else
     * @param alloc       for reply buffers
     * @param send        writes the replies to one message to the client (all of them in one buffer:
     *                    one write per option, not one per reply)
     */
    Handshake(NbdExport export, boolean tlsRequired, ByteBufAllocator alloc, Consumer<ByteBuf> send) {
        this.export = export;
        this.tlsRequired = tlsRequired;
        this.alloc = alloc;
        this.send = send;
    }

    /** Structured replies were agreed. */
    boolean structured() {
        return structured;
    }

    /** Extended headers were agreed. */
    boolean extended() {
        return extended;
    }

    /** The contexts selected for BLOCK_STATUS. */
    List<MetaContexts.Selected> selected() {
        return selected;
    }

    /** Why the last {@link Next#CLOSE} closes, for the log. */
    String refusal() {
        return refusal;
    }

    /** TLS is now on (the handler is in place). */
    void tlsStarted() {
        tlsActive = true;
    }

    /** The client's flags: fixed newstyle is required, unknown bits end the connection (proto.md). */
    Next clientFlags(ClientFlags flags) {
        if ((flags.flags() & ~KNOWN_CLIENT_FLAGS) != 0) {
            return close("unknown client flags 0x" + Integer.toHexString(flags.flags()));
        }
        if (!flags.fixedNewstyle()) {
            return close("client does not speak fixed newstyle");
        }
        noZeroes = flags.noZeroes();
        return Next.CONTINUE;
    }

    /** An option whose data was too long to read. */
    Next oversized(int option, long length) {
        return sent(error(option, NbdProtocol.REP_ERR_TOO_BIG, "option data of " + length + " bytes is too long"));
    }

    /** One option: its replies go out together, in order, before this returns. */
    Next option(OptionRequest o) {
        return sent(answer(o));
    }

    private Next answer(OptionRequest o) {
        int option = o.option();
        if (tlsRequired && !tlsActive && option != NbdProtocol.OPT_STARTTLS && option != NbdProtocol.OPT_ABORT) {
            if (option == NbdProtocol.OPT_EXPORT_NAME) {
                return close("NBD_OPT_EXPORT_NAME before TLS");
            }
            return error(option, NbdProtocol.REP_ERR_TLS_REQD, "TLS is required");
        }
        ByteBuffer data = o.data();
        return switch (option) {
            case NbdProtocol.OPT_EXPORT_NAME -> exportName(data);
            case NbdProtocol.OPT_ABORT -> {
                ack(option);
                refusal = "client aborted";
                yield Next.CLOSE;
            }
            case NbdProtocol.OPT_LIST -> list(data);
            case NbdProtocol.OPT_STARTTLS -> startTls(data);
            case NbdProtocol.OPT_INFO, NbdProtocol.OPT_GO -> infoOrGo(option, data);
            case NbdProtocol.OPT_STRUCTURED_REPLY -> {
                if (data.hasRemaining()) {
                    yield error(option, NbdProtocol.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                }
                structured = true;
                yield ack(option);
            }
            case NbdProtocol.OPT_EXTENDED_HEADERS -> {
                if (data.hasRemaining()) {
                    yield error(option, NbdProtocol.REP_ERR_INVALID, "NBD_OPT_EXTENDED_HEADERS takes no data");
                }
                structured = true;
                extended = true;
                yield ack(option);
            }
            case NbdProtocol.OPT_LIST_META_CONTEXT, NbdProtocol.OPT_SET_META_CONTEXT -> metaContext(option, data);
            default -> error(option, NbdProtocol.REP_ERR_UNSUP, "option " + option + " is not supported");
        };
    }

    /** Legacy: no error can be sent, so a wrong name or extended headers end the connection. */
    private Next exportName(ByteBuffer data) {
        if (extended) {
            return close("NBD_OPT_EXPORT_NAME after extended headers");
        }
        String name = StandardCharsets.UTF_8.decode(data).toString();
        if (!name.equals(export.name())) {
            return close("no export named '" + name + "'");
        }
        ByteBuf b = out().writeLong(export.size()).writeShort(export.transmissionFlags(structured));
        if (!noZeroes) {
            b.writeZero(124);
        }
        return Next.TRANSMISSION;
    }

    private Next list(ByteBuffer data) {
        if (data.hasRemaining()) {
            return error(NbdProtocol.OPT_LIST, NbdProtocol.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
        }
        byte[] name = export.name().getBytes(StandardCharsets.UTF_8);
        byte[] description = export.description().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + name.length + description.length);
        b.putInt(name.length).put(name).put(description);
        reply(NbdProtocol.OPT_LIST, NbdProtocol.REP_SERVER, b.array());
        return ack(NbdProtocol.OPT_LIST);
    }

    private Next startTls(ByteBuffer data) {
        if (!tlsRequired) {
            return error(NbdProtocol.OPT_STARTTLS, NbdProtocol.REP_ERR_UNSUP, "TLS is not configured");
        }
        if (tlsActive) {
            return error(NbdProtocol.OPT_STARTTLS, NbdProtocol.REP_ERR_INVALID, "TLS is already on");
        }
        if (data.hasRemaining()) {
            return error(NbdProtocol.OPT_STARTTLS, NbdProtocol.REP_ERR_INVALID, "NBD_OPT_STARTTLS takes no data");
        }
        ack(NbdProtocol.OPT_STARTTLS);
        structured = false;
        extended = false;
        selected = List.of();
        return Next.STARTTLS;
    }

    private Next infoOrGo(int option, ByteBuffer data) {
        String name;
        List<Integer> infos = new ArrayList<>();
        try {
            int length = data.getInt();
            if (length < 0 || length > MetaContexts.MAX_STRING || length > data.remaining()) {
                return error(option, NbdProtocol.REP_ERR_INVALID, "export name length " + Integer.toUnsignedString(length)
                        + " is invalid");
            }
            byte[] b = new byte[length];
            data.get(b);
            name = new String(b, StandardCharsets.UTF_8);
            int count = Short.toUnsignedInt(data.getShort());
            if (data.remaining() != 2 * count) {
                return error(option, NbdProtocol.REP_ERR_INVALID, count + " information requests do not match "
                        + data.remaining() + " bytes");
            }
            for (int i = 0; i < count; i++) {
                infos.add(Short.toUnsignedInt(data.getShort()));
            }
        } catch (BufferUnderflowException e) {
            return error(option, NbdProtocol.REP_ERR_INVALID, "the option data ends early");
        }
        if (!name.equals(export.name())) {
            return error(option, NbdProtocol.REP_ERR_UNKNOWN, "no export named '" + name + "'");
        }
        ByteBuffer info = ByteBuffer.allocate(12);
        info.putShort((short) NbdProtocol.INFO_EXPORT).putLong(export.size())
                .putShort((short) export.transmissionFlags(structured));
        reply(option, NbdProtocol.REP_INFO, info.array());
        if (infos.contains(NbdProtocol.INFO_NAME)) {
            byte[] n = export.name().getBytes(StandardCharsets.UTF_8);
            reply(option, NbdProtocol.REP_INFO, ByteBuffer.allocate(2 + n.length)
                    .putShort((short) NbdProtocol.INFO_NAME).put(n).array());
        }
        if (infos.contains(NbdProtocol.INFO_DESCRIPTION) && !export.description().isEmpty()) {
            byte[] d = export.description().getBytes(StandardCharsets.UTF_8);
            reply(option, NbdProtocol.REP_INFO, ByteBuffer.allocate(2 + d.length)
                    .putShort((short) NbdProtocol.INFO_DESCRIPTION).put(d).array());
        }
        // sent whether asked or not, as qemu-nbd does: a client that did not ask may ignore it
        reply(option, NbdProtocol.REP_INFO, ByteBuffer.allocate(14).putShort((short) NbdProtocol.INFO_BLOCK_SIZE)
                .putInt(1).putInt(NbdExport.PREFERRED_BLOCK).putInt(export.maxPayload()).array());
        ack(option);
        return option == NbdProtocol.OPT_GO ? Next.TRANSMISSION : Next.CONTINUE;
    }

    private Next metaContext(int option, ByteBuffer data) {
        boolean set = option == NbdProtocol.OPT_SET_META_CONTEXT;
        if (!structured) {
            return error(option, NbdProtocol.REP_ERR_INVALID, "metadata contexts need structured replies");
        }
        MetaContexts.Query query;
        try {
            query = MetaContexts.parse(data);
        } catch (IllegalArgumentException e) {
            return error(option, NbdProtocol.REP_ERR_INVALID, e.getMessage());
        }
        if (!query.export().equals(export.name())) {
            return error(option, NbdProtocol.REP_ERR_UNKNOWN, "no export named '" + query.export() + "'");
        }
        List<MetaContexts.Selected> answer = set ? MetaContexts.set(export.contexts(), query.queries())
                : MetaContexts.list(export.contexts(), query.queries());
        for (MetaContexts.Selected c : answer) {
            byte[] n = c.name().getBytes(StandardCharsets.UTF_8);
            reply(option, NbdProtocol.REP_META_CONTEXT,
                    ByteBuffer.allocate(4 + n.length).putInt(set ? c.id() : 0).put(n).array());
        }
        if (set) {
            selected = answer;
        }
        return ack(option);
    }

    private Next ack(int option) {
        reply(option, NbdProtocol.REP_ACK, new byte[0]);
        return Next.CONTINUE;
    }

    private Next error(int option, int type, String message) {
        reply(option, type, message.getBytes(StandardCharsets.UTF_8));
        return Next.CONTINUE;
    }

    private Next close(String why) {
        refusal = why;
        return Next.CLOSE;
    }

    private void reply(int option, int type, byte[] data) {
        new OptionReply(option, type, data).encode(out());
    }

    /** The buffer of the replies to the message being answered (a GO's fit in its first 128 bytes). */
    private ByteBuf out() {
        if (pending == null) {
            pending = alloc.buffer(128);
        }
        return pending;
    }

    /**
     * Sends the replies gathered for one message, in one buffer: an INFO or GO answered with four
     * replies costs the connection one write and the client one read, as qemu-nbd's does.
     */
    private Next sent(Next next) {
        if (pending != null) {
            ByteBuf replies = pending;
            pending = null;
            send.accept(replies);
        }
        return next;
    }
}
