package io.extentflow.engine.nbd.server;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.capability.CachedReads;
import io.extentflow.engine.io.ZeroBuffer;
import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.nbd.message.reply.BlockStatusChunk;
import io.extentflow.engine.nbd.message.reply.DataChunk;
import io.extentflow.engine.nbd.message.reply.ErrorChunk;
import io.extentflow.engine.nbd.message.reply.HoleChunk;
import io.extentflow.engine.nbd.message.reply.NoneChunk;
import io.extentflow.engine.nbd.message.reply.Reply;
import io.extentflow.engine.nbd.message.reply.SimpleReply;
import io.extentflow.engine.nbd.message.request.Request;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The transmission phase of one connection: checks each request as proto.md asks (flags, range,
 * read-only, sizes) and serves it from the export's source or sink, answering every failure with an
 * error reply, never by hanging up. Each returned {@code Mono} completes once the request's replies
 * are written to the socket (so whoever bounds the bytes in flight can release them then).
 *
 * <ul>
 *   <li>READ: with structured replies, data chunks for the data and OFFSET_HOLE chunks for ranges the
 *       source reports as zeros (the whole range as one data chunk with DF); else a simple reply and
 *       the bytes.</li>
 *   <li>WRITE, WRITE_ZEROES, TRIM: to the sink; FUA flushes it before the reply. WRITE_ZEROES without
 *       NO_HOLE and TRIM use the sink's zeroing (a punched hole on a file); with NO_HOLE zeros are
 *       written, so FAST_ZERO with NO_HOLE fails at once with ENOTSUP, as the spec lets it.</li>
 *   <li>BLOCK_STATUS: one chunk per selected context ({@link BlockStatusReport}).</li>
 *   <li>FLUSH flushes the sink; CACHE is accepted and does nothing (a hint).</li>
 * </ul>
 */
final class RequestHandler {

    private static final Logger LOG = Logger.getLogger(RequestHandler.class.getName());
    /** Zeros written for WRITE_ZEROES with NO_HOLE, a piece at a time. */
    private static final ByteBuffer ZEROS = ZeroBuffer.of(1 << 20);

    private final NbdExport export;
    private final Channel channel;
    private final boolean structured;
    private final List<MetaContexts.Selected> contexts;
    private final ReplyEncoder encoder;
    private final DataBuffers buffers;
    /** The source's reads of what is in memory, or null: a READ of cached data then stays on the event loop. */
    private final CachedReads cachedReads;
    /** READs waiting for the socket to take more ({@link #whenWritable}); only touched on the event loop. */
    private final ArrayDeque<MonoSink<Void>> waitingForSocket = new ArrayDeque<>();
    /** A flush is queued on the event loop ({@link #writeSoon}); only touched there. */
    private boolean flushScheduled;
    private final Runnable flush;

    RequestHandler(NbdExport export, Channel channel, boolean structured, boolean extended,
                   List<MetaContexts.Selected> contexts, DataBuffers buffers) {
        this.export = export;
        this.buffers = buffers;
        this.cachedReads = export.source().capability(CachedReads.class).orElse(null);
        this.channel = channel;
        this.structured = structured;
        this.contexts = contexts;
        this.encoder = new ReplyEncoder(channel.alloc(), extended);
        this.flush = () -> {
            flushScheduled = false;
            channel.flush();
        };
    }

    /** The bytes a request holds while it runs: its payload or reply data (block status: its descriptors). */
    static long cost(Request r, int maxPayload) {
        return switch (r.command()) {
            case NbdProtocol.CMD_READ, NbdProtocol.CMD_WRITE -> DataBuffers.cost(Math.min(r.length(), maxPayload));
            case NbdProtocol.CMD_BLOCK_STATUS -> 64 * 1024;
            default -> 1;
        };
    }

    /**
     * Serves {@code r}; {@code payload} (a WRITE's, or null) is released here.
     *
     * @param tooLarge the payload was beyond the maximum and was discarded
     */
    Mono<Void> handle(Request r, ByteBuf payload, boolean tooLarge) {
        AtomicBoolean released = new AtomicBoolean();
        Runnable release = () -> {
            if (payload != null && released.compareAndSet(false, true)) {
                payload.release();
            }
        };
        return Mono.defer(() -> {
                    int refused = check(r, tooLarge);
                    if (refused != 0) {
                        return reply(error(r, refused, refusalMessage(r, refused)), r);
                    }
                    return serve(r, payload, release)
                            .onErrorResume(e -> {
                                int value = ErrorValues.of(e);
                                LOG.log(Level.FINE, e, () -> NbdProtocol.commandName(r.command()) + " at " + r.offset()
                                        + " failed");
                                return reply(error(r, value, message(e)), r);
                            });
                })
                .doFinally(s -> release.run());
    }

    private Mono<Void> serve(Request r, ByteBuf payload, Runnable releasePayload) {
        ImageSink sink = export.sink();
        return switch (r.command()) {
            case NbdProtocol.CMD_READ -> read(r);
            case NbdProtocol.CMD_WRITE -> changed(write(sink, r.offset(), payload, releasePayload), r);
            case NbdProtocol.CMD_WRITE_ZEROES -> (r.flags() & NbdProtocol.CMD_FLAG_NO_HOLE) != 0
                    ? changed(writeZeros(sink, r.offset(), r.length()), r)
                    : changed(zero(sink, r.offset(), r.length()), r);
            case NbdProtocol.CMD_TRIM -> changed(zero(sink, r.offset(), r.length()), r);
            case NbdProtocol.CMD_FLUSH -> (sink == null ? Mono.<Void>empty() : sink.flush())
                    .then(Mono.defer(() -> reply(new SimpleReply(r.cookie(), 0), r)));
            case NbdProtocol.CMD_CACHE -> reply(new SimpleReply(r.cookie(), 0), r);
            case NbdProtocol.CMD_BLOCK_STATUS -> blockStatus(r);
            default -> reply(error(r, NbdProtocol.EINVAL, "unknown command " + r.command()), r);
        };
    }

    /**
     * The proto.md checks, in the order qemu-nbd makes them; 0 when the request may run. Writes past
     * the end get ENOSPC, other requests past the end EINVAL.
     */
    private int check(Request r, boolean tooLarge) {
        int command = r.command();
        int allowed = switch (command) {
            case NbdProtocol.CMD_READ -> structured ? NbdProtocol.CMD_FLAG_DF : 0;
            case NbdProtocol.CMD_WRITE -> NbdProtocol.CMD_FLAG_FUA | NbdProtocol.CMD_FLAG_PAYLOAD_LEN;
            case NbdProtocol.CMD_TRIM -> NbdProtocol.CMD_FLAG_FUA;
            case NbdProtocol.CMD_WRITE_ZEROES -> NbdProtocol.CMD_FLAG_FUA | NbdProtocol.CMD_FLAG_NO_HOLE
                    | NbdProtocol.CMD_FLAG_FAST_ZERO;
            case NbdProtocol.CMD_BLOCK_STATUS -> NbdProtocol.CMD_FLAG_REQ_ONE;
            case NbdProtocol.CMD_FLUSH, NbdProtocol.CMD_CACHE -> 0;
            default -> -1;
        };
        if (allowed < 0 || (r.flags() & ~allowed) != 0 || tooLarge) {
            return NbdProtocol.EINVAL;
        }
        boolean writing = command == NbdProtocol.CMD_WRITE || command == NbdProtocol.CMD_WRITE_ZEROES
                || command == NbdProtocol.CMD_TRIM;
        if (writing && export.readOnly()) {
            return NbdProtocol.EPERM;
        }
        if (command == NbdProtocol.CMD_FLUSH) {
            return 0;
        }
        long size = export.size();
        if (r.offset() < 0 || r.offset() > size || r.length() > size - r.offset()) {
            return command == NbdProtocol.CMD_WRITE || command == NbdProtocol.CMD_WRITE_ZEROES
                    ? NbdProtocol.ENOSPC : NbdProtocol.EINVAL;
        }
        if (command == NbdProtocol.CMD_READ && r.length() > export.maxPayload()) {
            return NbdProtocol.EINVAL;
        }
        if (command == NbdProtocol.CMD_BLOCK_STATUS && (!structured || contexts.isEmpty() || r.length() == 0)) {
            return NbdProtocol.EINVAL;
        }
        if (command == NbdProtocol.CMD_WRITE_ZEROES
                && (r.flags() & (NbdProtocol.CMD_FLAG_FAST_ZERO | NbdProtocol.CMD_FLAG_NO_HOLE))
                == (NbdProtocol.CMD_FLAG_FAST_ZERO | NbdProtocol.CMD_FLAG_NO_HOLE)) {
            return NbdProtocol.ENOTSUP; // zeros that stay allocated are written: not faster than a write
        }
        return 0;
    }

    private String refusalMessage(Request r, int value) {
        String what = NbdProtocol.commandName(r.command()) + " at offset " + Long.toUnsignedString(r.offset())
                + " length " + Long.toUnsignedString(r.length());
        return switch (value) {
            case NbdProtocol.EPERM -> what + ": the export is read-only";
            case NbdProtocol.ENOSPC -> what + ": past the end of the export (" + export.size() + " bytes)";
            case NbdProtocol.ENOTSUP -> what + ": fast zero is not possible with NO_HOLE";
            default -> what + ": invalid request";
        };
    }

    private Mono<Void> changed(Mono<Void> change, Request r) {
        Mono<Void> durable = (r.flags() & NbdProtocol.CMD_FLAG_FUA) != 0 ? change.then(export.sink().flush()) : change;
        return durable
                .doFinally(s -> {
                    export.extents().invalidate();
                    export.statuses().invalidate();
                })
                .then(Mono.defer(() -> reply(new SimpleReply(r.cookie(), 0), r)));
    }

    /**
     * Writes a WRITE's payload: first copied into the server's pieces, and the payload (a slice of the
     * connection's receive buffer) let go at once, so that buffer is free to be filled again in place
     * rather than kept alive, and copied, by every payload still being written (receive buffers cut
     * from malloc, beyond any budget, were most of a busy writable server's memory).
     */
    private Mono<Void> write(ImageSink sink, long offset, ByteBuf payload, Runnable releasePayload) {
        int length = payload.readableBytes();
        if (length == 0) {
            releasePayload.run();
            return Mono.empty();
        }
        return buffers.take(length).flatMap(copy -> {
            copy.writeBytes(payload);
            releasePayload.run();
            ByteBuffer[] parts = copy.nioBuffers();
            long[] at = new long[parts.length];
            for (int i = 0, pos = 0; i < parts.length; pos += parts[i].remaining(), i++) {
                at[i] = offset + pos;
            }
            return Flux.range(0, parts.length)
                    .concatMap(i -> sink.write(at[i], parts[i]))
                    .then()
                    .doFinally(s -> copy.release());
        });
    }

    private static Mono<Void> zero(ImageSink sink, long offset, long length) {
        long piece = sink.capabilities().maxZeroSize();
        return Flux.range(0, (int) ((length + piece - 1) / piece))
                .concatMap(i -> {
                    long from = offset + i * piece;
                    return sink.zero(from, Math.min(piece, offset + length - from));
                })
                .then();
    }

    private static Mono<Void> writeZeros(ImageSink sink, long offset, long length) {
        long piece = ZEROS.capacity();
        return Flux.range(0, (int) ((length + piece - 1) / piece))
                .concatMap(i -> {
                    long from = offset + i * piece;
                    return sink.write(from, ZEROS.duplicate().limit((int) Math.min(piece, offset + length - from)));
                })
                .then();
    }

    private Mono<Void> read(Request r) {
        int length = (int) r.length();
        if (length == 0) {
            return reply(structured ? new NoneChunk(r.cookie(), true) : new SimpleReply(r.cookie(), 0), r);
        }
        if (cachedReads != null && !channel.isWritable() && channel.eventLoop().inEventLoop()) {
            // read once the replies before it have left: its data then goes to the socket while still
            // in the CPU's cache, as a server that blocks in send() has it (whenWritable)
            return whenWritable().then(Mono.defer(() -> read(r)));
        }
        boolean oneChunk = !structured || (r.flags() & NbdProtocol.CMD_FLAG_DF) != 0;
        List<Extent> cached = export.extents().cached(r.offset(), length);
        ByteBuf now = cached == null ? null : buffers.takeNow(length);
        if (now != null) {
            return readNow(r, now, cached, oneChunk);
        }
        // the extents to fetch first, or (rarely) pieces still held by a cancelled READ's reads
        return export.extents().extents(r.offset(), length).collectList()
                .flatMap(extents -> {
                    ByteBuf free = buffers.takeNow(length);
                    return free != null ? readNow(r, free, extents, oneChunk)
                            : buffers.take(length).flatMap(buffer -> readNow(r, buffer, extents, oneChunk));
                });
    }

    /**
     * A READ with its extents and its buffer, with as little machinery as it takes (the common case
     * comes here straight from the event loop: extents cached, pieces free): its data read with one
     * source call per piece of the buffer
     * ({@link io.extentflow.engine.ImageSource#readPieces}, one hand-off to the file I/O threads for all
     * the extents in it) unless the data is cached ({@link #readCached}: no hand-off at all), then its
     * reply written on the event loop in one task, and flushed with the
     * other replies that completed meanwhile ({@link #writeSoon}). Zeros are only written into the
     * buffer when the reply carries them as data; hole chunks need none.
     *
     * <p>A read that runs cannot be stopped: a cancelled READ lets go of its buffer only once its reads
     * have ended (so no other request gets memory that a read still fills), and sends nothing.
     */
    private Mono<Void> readNow(Request r, ByteBuf buffer, List<Extent> extents, boolean oneChunk) {
        return Mono.create(sink -> {
            AtomicBoolean cancelled = new AtomicBoolean();
            sink.onCancel(() -> cancelled.set(true));
            Mono<Void> reads;
            try {
                reads = readPieces(buffer, extents, r.offset(), oneChunk);
            } catch (RuntimeException e) {
                buffer.release();
                sink.error(e);
                return;
            }
            reads.subscribe(null, e -> {
                buffer.release();
                sink.error(e);
            }, () -> onLoop(() -> {
                if (cancelled.get() || !channel.isActive()) {
                    buffer.release();
                    sink.success();
                    return;
                }
                buffer.writerIndex(buffer.capacity());
                writeSoon(oneChunk ? List.of(wholeFrame(r, buffer)) : chunkFrames(r, buffer, extents), sink);
            }, () -> {
                buffer.release();
                sink.success();
            }));
        });
    }

    /** The reads that fill {@code buffer} with the data extents, piece by piece, all at once. */
    private Mono<Void> readPieces(ByteBuf buffer, List<Extent> extents, long offset, boolean zeros) {
        ByteBuffer[] pieces = buffer.nioBuffers(0, buffer.capacity());
        List<Mono<Void>> reads = new ArrayList<>(pieces.length);
        int e = 0;
        long pieceStart = offset;
        for (ByteBuffer piece : pieces) {
            long pieceEnd = pieceStart + piece.remaining();
            List<Extent> data = new ArrayList<>();
            for (; e < extents.size() && extents.get(e).start() < pieceEnd; e++) {
                Extent x = extents.get(e);
                long from = Math.max(x.start(), pieceStart);
                long to = Math.min(x.end(), pieceEnd);
                if (!x.zero()) {
                    data.add(Extent.data(from, to - from));
                } else if (zeros) {
                    buffer.setZero((int) (from - offset), (int) (to - from));
                }
                if (x.end() > pieceEnd) {
                    break; // the rest of this extent is in the next piece
                }
            }
            List<Extent> rest = cachedReads == null || data.isEmpty() ? data : readCached(piece, pieceStart, data);
            if (!rest.isEmpty()) {
                reads.add(export.source().readPieces(pieceStart, piece, rest));
            }
            pieceStart = pieceEnd;
        }
        return switch (reads.size()) {
            case 0 -> Mono.empty();
            case 1 -> reads.get(0);
            default -> Mono.whenDelayError(reads); // all ended before the buffer may go
        };
    }

    /**
     * Reads the data extents of {@code piece} (which starts at image offset {@code pieceStart}) from
     * the source's cache, here and now, up to the first byte that is not cached; returns what is left
     * to read the ordinary way (empty when all was cached). A READ served from the page cache then
     * costs no thread switch: handing each one to the file I/O scheduler and its reply back to the
     * event loop made the server 1.2 × slower than nbdkit on a cached raw image (docs/architecture.md).
     * {@link CachedReads} never waits for the disk, so this may run on the event loop.
     */
    private List<Extent> readCached(ByteBuffer piece, long pieceStart, List<Extent> data) {
        int base = piece.position();
        for (int i = 0; i < data.size(); i++) {
            Extent x = data.get(i);
            int length = (int) x.length();
            int n = cachedReads.readCached(x.start(), piece.slice(base + (int) (x.start() - pieceStart), length));
            if (n < length) {
                List<Extent> rest = new ArrayList<>(data.size() - i);
                rest.add(Extent.data(x.start() + n, length - n));
                rest.addAll(data.subList(i + 1, data.size()));
                return rest;
            }
        }
        return List.of();
    }

    /**
     * Completes (on the event loop) once the channel takes writes again: the replies before it have
     * left for the socket. A READ that waits here holds no buffer, and when it runs, its data goes
     * into the socket right after it is read, while it is still in the CPU's cache. Served at once
     * instead, a client's 64 READs filled 16 MiB of replies waiting in the channel, each copied into
     * the socket long after its read, from memory rather than cache: that copy cost 1.9 × the CPU
     * samples (perf record) it costs now, and the next read's buffer was cold too.
     */
    private Mono<Void> whenWritable() {
        return Mono.create(sink -> {
            waitingForSocket.add(sink);
            sink.onCancel(() -> onLoop(() -> waitingForSocket.remove(sink), () -> { }));
        });
    }

    /**
     * The channel takes writes again ({@code channelWritabilityChanged}): runs the waiting READs, one
     * after the other while it still does. On the event loop.
     */
    void writable() {
        while (channel.isWritable() && !waitingForSocket.isEmpty()) {
            waitingForSocket.poll().success();
        }
    }

    /**
     * Runs {@code task} on the connection's event loop: here when already there; {@code stopped} instead
     * when the loop no longer takes tasks (the server stopped).
     */
    private void onLoop(Runnable task, Runnable stopped) {
        if (channel.eventLoop().inEventLoop()) {
            task.run();
            return;
        }
        try {
            channel.eventLoop().execute(task);
        } catch (RejectedExecutionException e) {
            stopped.run();
        }
    }

    /**
     * Writes a reply's frames (on the event loop) and has them flushed once the loop has run the tasks
     * queued so far: replies completing together leave in one writev rather than one each.
     * {@code done} succeeds once the last frame is on the socket, or the socket is gone.
     */
    private void writeSoon(List<ByteBuf> frames, MonoSink<Void> done) {
        ChannelFuture last = null;
        for (ByteBuf frame : frames) {
            last = channel.write(frame);
        }
        last.addListener(f -> done.success());
        if (!flushScheduled) {
            flushScheduled = true;
            channel.eventLoop().execute(flush);
        }
    }

    /** The reply of a READ as one data chunk (or a simple reply and the data); takes {@code buffer} over. */
    private ByteBuf wholeFrame(Request r, ByteBuf buffer) {
        if (!structured) {
            return encoder.simpleRead(r.cookie(), buffer);
        }
        return encoder.encode(new DataChunk(r.cookie(), true, r.offset(), buffer), r.offset());
    }

    /** The reply of a READ as a data or hole chunk per extent; takes {@code buffer} over. */
    private List<ByteBuf> chunkFrames(Request r, ByteBuf buffer, List<Extent> extents) {
        List<ByteBuf> frames = new ArrayList<>(extents.size());
        try {
            for (int i = 0; i < extents.size(); i++) {
                Extent e = extents.get(i);
                boolean done = i == extents.size() - 1;
                Reply chunk = e.zero() ? new HoleChunk(r.cookie(), done, e.start(), e.length())
                        : new DataChunk(r.cookie(), done, e.start(),
                                buffer.retainedSlice((int) (e.start() - r.offset()), (int) e.length()));
                frames.add(encoder.encode(chunk, r.offset()));
            }
        } finally {
            buffer.release();
        }
        return frames;
    }

    /**
     * Answers {@code r} here and now when that needs no I/O: a BLOCK_STATUS whose every context is
     * cached ({@link StatusCache}). The reply is written, not flushed (the caller flushes once it has
     * read what the client sent), and only while the socket takes it ({@link Channel#isWritable()}), so
     * replies that hold no budget cannot pile up. On the event loop; false when the request must be
     * {@link #handle}d.
     */
    boolean answerNow(Request r) {
        if (r.command() != NbdProtocol.CMD_BLOCK_STATUS || !channel.isWritable() || check(r, false) != 0) {
            return false;
        }
        long length = Math.min(r.length(), export.size() - r.offset());
        boolean reqOne = (r.flags() & NbdProtocol.CMD_FLAG_REQ_ONE) != 0;
        BlockStatusReport[] reports = new BlockStatusReport[contexts.size()];
        for (int i = 0; i < reports.length; i++) {
            reports[i] = export.statuses().cached(contexts.get(i), r.offset(), length, reqOne);
            if (reports[i] == null) {
                return false;
            }
        }
        for (int i = 0; i < reports.length; i++) {
            channel.write(blockStatusChunk(r, i, reports[i])); // a socket gone meanwhile is no error
        }
        return true;
    }

    private Mono<Void> blockStatus(Request r) {
        long length = Math.min(r.length(), export.size() - r.offset());
        boolean reqOne = (r.flags() & NbdProtocol.CMD_FLAG_REQ_ONE) != 0;
        return Flux.fromIterable(contexts)
                .concatMap(c -> export.statuses().report(c, r.offset(), length, reqOne))
                .collectList()
                .flatMap(reports -> {
                    List<ByteBuf> frames = new ArrayList<>(reports.size());
                    for (int i = 0; i < reports.size(); i++) {
                        frames.add(blockStatusChunk(r, i, reports.get(i)));
                    }
                    return write(frames);
                });
    }

    /** The chunk of the {@code i}th selected context (the last one done). */
    private ByteBuf blockStatusChunk(Request r, int i, BlockStatusReport report) {
        return encoder.encode(new BlockStatusChunk(r.cookie(), i == contexts.size() - 1, contexts.get(i).id(),
                report.lengths(), report.flags()), r.offset());
    }

    private Reply error(Request r, int value, String message) {
        return structured ? new ErrorChunk(r.cookie(), true, value, message, -1) : new SimpleReply(r.cookie(), value);
    }

    private Mono<Void> reply(Reply reply, Request r) {
        return write(encoder.encode(reply, r.offset()));
    }

    /**
     * Writes and flushes {@code frame} now (in call order, so a reply's chunks stay in order);
     * the result completes once it is on the socket, or the socket is gone.
     */
    private Mono<Void> write(ByteBuf frame) {
        ChannelFuture written = channel.writeAndFlush(frame);
        return Mono.create(sink -> written.addListener(f -> sink.success()));
    }

    /** The frames of one reply, in order, flushed once after the last. */
    private Mono<Void> write(List<ByteBuf> frames) {
        for (int i = 0; i < frames.size() - 1; i++) {
            channel.write(frames.get(i));
        }
        return write(frames.get(frames.size() - 1));
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
