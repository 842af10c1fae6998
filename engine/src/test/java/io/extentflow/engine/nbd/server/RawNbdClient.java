package io.extentflow.engine.nbd.server;

import io.extentflow.engine.nbd.message.NbdProtocol;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A byte-level NBD client for tests that must send what no real client sends (bad magic, huge
 * lengths, unknown commands). Blocking, on the test's own thread; the tests that use it carry a
 * JUnit timeout, so a server that never answers fails the test instead of hanging it.
 */
final class RawNbdClient implements AutoCloseable {

    private final SocketChannel channel;

    /** A reply to an option: its type and data. */
    record OptionAnswer(int option, int type, byte[] data) {
    }

    /** A simple reply or one structured chunk. */
    record Answer(int magic, int error, long cookie, int flags, int type, byte[] payload) {
        boolean done() {
            return magic == NbdProtocol.SIMPLE_REPLY_MAGIC || (flags & NbdProtocol.REPLY_FLAG_DONE) != 0;
        }

        /** The error of a simple reply or an error chunk, 0 for success. */
        int errorValue() {
            if (magic == NbdProtocol.SIMPLE_REPLY_MAGIC) {
                return error;
            }
            return (type & NbdProtocol.CHUNK_FLAG_ERROR) != 0 ? ByteBuffer.wrap(payload).getInt() : 0;
        }
    }

    private RawNbdClient(SocketChannel channel) {
        this.channel = channel;
    }

    /** Connects and reads the greeting. */
    static RawNbdClient connect(Path socket) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(socket));
        RawNbdClient c = new RawNbdClient(ch);
        ByteBuffer greeting = c.read(18);
        if (greeting.getLong() != NbdProtocol.NBDMAGIC || greeting.getLong() != NbdProtocol.IHAVEOPT) {
            throw new IOException("not an NBD greeting");
        }
        return c;
    }

    /** Connects, sends fixed-newstyle flags, and GO for {@code export} (with structured replies if asked). */
    static RawNbdClient transmission(Path socket, boolean structured) throws IOException {
        RawNbdClient c = connect(socket);
        c.send(ByteBuffer.allocate(4).putInt(NbdProtocol.CLIENT_FIXED_NEWSTYLE | NbdProtocol.CLIENT_NO_ZEROES).flip());
        if (structured) {
            c.option(NbdProtocol.OPT_STRUCTURED_REPLY, new byte[0]);
            c.finalAnswer();
        }
        c.option(NbdProtocol.OPT_GO, ByteBuffer.allocate(6).putInt(0).putShort((short) 0).array());
        OptionAnswer last = c.finalAnswer();
        if (last.type() != NbdProtocol.REP_ACK) {
            throw new IOException("GO failed: 0x" + Integer.toHexString(last.type()));
        }
        return c;
    }

    void send(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    void option(int option, byte[] data) throws IOException {
        send(ByteBuffer.allocate(16 + data.length).putLong(NbdProtocol.IHAVEOPT).putInt(option).putInt(data.length)
                .put(data).flip());
    }

    /** Reads option replies up to the final one (ACK or error), which it returns. */
    OptionAnswer finalAnswer() throws IOException {
        List<OptionAnswer> all = answers();
        return all.get(all.size() - 1);
    }

    /** Reads the replies to one option, in the order they came, up to the final one (ACK or error). */
    List<OptionAnswer> answers() throws IOException {
        List<OptionAnswer> all = new ArrayList<>();
        while (true) {
            ByteBuffer h = read(20);
            long magic = h.getLong();
            if (magic != NbdProtocol.OPTION_REPLY_MAGIC) {
                throw new IOException("bad option reply magic");
            }
            int option = h.getInt();
            int type = h.getInt();
            byte[] data = new byte[h.getInt()];
            read(data.length).get(data);
            all.add(new OptionAnswer(option, type, data));
            if (type == NbdProtocol.REP_ACK || (type & NbdProtocol.REP_FLAG_ERROR) != 0) {
                return all;
            }
        }
    }

    void request(int flags, int command, long cookie, long offset, long length) throws IOException {
        send(ByteBuffer.allocate(28).putInt(NbdProtocol.REQUEST_MAGIC).putShort((short) flags)
                .putShort((short) command).putLong(cookie).putLong(offset).putInt((int) length).flip());
    }

    /** Reads one simple reply (without data) or one structured chunk. */
    Answer answer() throws IOException {
        int magic = read(4).getInt();
        if (magic == NbdProtocol.SIMPLE_REPLY_MAGIC) {
            ByteBuffer b = read(12);
            return new Answer(magic, b.getInt(), b.getLong(), 0, 0, new byte[0]);
        }
        if (magic != NbdProtocol.STRUCTURED_REPLY_MAGIC) {
            throw new IOException("bad reply magic 0x" + Integer.toHexString(magic));
        }
        ByteBuffer b = read(16);
        int flags = Short.toUnsignedInt(b.getShort());
        int type = Short.toUnsignedInt(b.getShort());
        long cookie = b.getLong();
        byte[] payload = new byte[b.getInt()];
        read(payload.length).get(payload);
        return new Answer(magic, 0, cookie, flags, type, payload);
    }

    /** Bytes of data that follow a simple READ reply. */
    byte[] data(int length) throws IOException {
        byte[] b = new byte[length];
        read(length).get(b);
        return b;
    }

    /** True once the server closed the connection (reads end). */
    boolean closedByServer() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1);
        try {
            return channel.read(b) < 0;
        } catch (IOException reset) {
            return true;
        }
    }

    private ByteBuffer read(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new IOException("server closed the connection after " + b.position() + " of " + n + " bytes");
            }
        }
        return b.flip();
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
