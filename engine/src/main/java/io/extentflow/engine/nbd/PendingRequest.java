package io.extentflow.engine.nbd;

import io.extentflow.engine.io.ZeroBuffer;
import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.nbd.message.NbdProtocolException;
import io.extentflow.engine.nbd.message.reply.BlockStatusChunk;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.MonoSink;

/**
 * One request of a {@link Transmission} from submission to its final reply: what was asked, the
 * caller's buffer, and what the reply chunks said so far.
 *
 * <p>Event loop only, except the target buffer of a read, which a caller may take back on cancel:
 * copying into it and cancelling are serialised on this object, and a cancel waits out a socket read
 * that is landing in it (see {@link #beginReceive}).
 */
final class PendingRequest {

    private static final ByteBuffer ZEROS = ZeroBuffer.of(64 << 10);

    final int command;
    final int flags;
    final long offset;
    final long length;
    final ByteBuffer buffer;
    final MonoSink<Object> sink;
    private final String endpoint;
    long cookie;
    ScheduledFuture<?> timer;
    /** Netty is done with the request's bytes (always true but for a write still being sent). */
    boolean written;
    boolean finished;
    boolean delivered;
    NbdException failure;
    int error;
    String errorMessage = "";
    private long covered;
    private volatile boolean cancelled;
    /** The event loop while a socket read is writing into the target, else null. */
    private volatile Thread receiver;
    /** Address of the target's first byte once a socket read was pointed at it, else 0. */
    private long targetAddress;
    final Map<String, List<NbdExtent>> statusByContext = new LinkedHashMap<>();

    PendingRequest(int command, int flags, long offset, long length, ByteBuffer buffer, MonoSink<Object> sink,
                   String endpoint) {
        this.command = command;
        this.flags = flags;
        this.offset = offset;
        this.length = length;
        this.buffer = buffer;
        this.sink = sink;
        this.endpoint = endpoint;
        this.written = command != NbdProtocol.CMD_WRITE;
    }

    /** A data or hole chunk must belong to a read and lie inside it. */
    void checkContent(long at, long n) {
        if (command != NbdProtocol.CMD_READ) {
            throw new NbdProtocolException("read data in the reply to a " + NbdProtocol.commandName(command));
        }
        // the chunk's place comes from the server: compared so that no sum can overflow
        if (at < offset || n < 0 || n > length || at - offset > length - n) {
            throw new NbdProtocolException("read reply chunk at " + at + " of " + n
                    + " bytes is outside the request at " + offset + " of " + length + " bytes");
        }
        covered += n;
    }

    /** A read whose data the socket can write straight into its target. */
    boolean receivesInPlace() {
        return command == NbdProtocol.CMD_READ && buffer.isDirect();
    }

    /**
     * Points a socket read at {@code n} bytes of the target from {@code relative}, unless the read
     * is cancelled. Event loop only; {@link #endReceive()} must follow.
     */
    ByteBuf beginReceive(int relative, int n) {
        // flag, then check: cancel() sets its flag, then waits for ours (both volatile), so one of
        // the two always sees the other
        receiver = Thread.currentThread();
        if (cancelled) {
            receiver = null;
            return null;
        }
        ByteBuf region = Unpooled.wrappedBuffer(buffer.slice(buffer.position() + relative, n)).clear();
        if (region.hasMemoryAddress()) {
            targetAddress = region.memoryAddress() - relative;
        }
        return region;
    }

    void endReceive() {
        receiver = null;
    }

    /** Puts a piece of the payload in the target, unless it is there already; true if it copied. */
    synchronized boolean copyIn(long relative, ByteBuf data) {
        if (cancelled) {
            return false;
        }
        if (targetAddress != 0 && data.hasMemoryAddress()
                && data.memoryAddress() + data.readerIndex() == targetAddress + relative) {
            return false; // received in place
        }
        ByteBuffer target = buffer.duplicate();
        target.position(buffer.position() + (int) relative).limit(buffer.position() + (int) relative
                + data.readableBytes());
        data.getBytes(data.readerIndex(), target);
        return true;
    }

    synchronized void zeroFill(long relative, int n) {
        if (cancelled) {
            return;
        }
        ByteBuffer target = buffer.duplicate();
        target.position(buffer.position() + (int) relative);
        int left = n;
        while (left > 0) {
            int k = Math.min(left, ZEROS.capacity());
            target.put(ZEROS.duplicate().limit(k));
            left -= k;
        }
    }

    /**
     * From now on nothing writes into the target. A socket read already landing in it is waited
     * out: one non-blocking system call on the event loop, so a few microseconds of spinning.
     */
    void cancel() {
        synchronized (this) {
            cancelled = true;
        }
        Thread r = receiver;
        while (r != null && r != Thread.currentThread()) { // never on the event loop itself
            Thread.onSpinWait();
            r = receiver;
        }
    }

    boolean isCancelled() {
        return cancelled;
    }

    void addStatus(String context, BlockStatusChunk b) {
        if (statusByContext.containsKey(context)) {
            throw new NbdProtocolException("two block status chunks for context " + context);
        }
        List<NbdExtent> list = new ArrayList<>(b.count());
        long at = offset;
        for (int i = 0; i < b.count(); i++) {
            if (b.length(i) == 0) {
                throw new NbdProtocolException("block status descriptor of length 0");
            }
            list.add(new NbdExtent(at, b.length(i), b.flags(i)));
            at += b.length(i);
        }
        statusByContext.put(context, List.copyOf(list));
    }

    /** The failure this reply reports, or null. */
    NbdException outcome() {
        String op = NbdProtocol.commandName(command);
        if (error != 0) {
            String text = errorMessage == null || errorMessage.isBlank() ? "" : ": " + errorMessage;
            boolean transientFailure = error == NbdProtocol.EIO || error == NbdProtocol.ESHUTDOWN;
            return new NbdException(op, endpoint, offset, length, "server replied " + NbdProtocol.errorName(error)
                    + text, error, transientFailure, null);
        }
        if (command == NbdProtocol.CMD_READ && covered != length) {
            return new NbdException(op, endpoint, offset, length, "malformed reply: the server's chunks covered "
                    + covered + " of " + length + " bytes", NbdException.NO_ERROR_VALUE, false, null);
        }
        return null;
    }
}
