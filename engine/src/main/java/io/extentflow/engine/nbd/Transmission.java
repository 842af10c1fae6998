package io.extentflow.engine.nbd;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.nbd.message.NbdFrameDecoder;
import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.nbd.message.NbdProtocolException;
import io.extentflow.engine.nbd.message.reply.BlockStatusChunk;
import io.extentflow.engine.nbd.message.reply.DataChunk;
import io.extentflow.engine.nbd.message.reply.ErrorChunk;
import io.extentflow.engine.nbd.message.reply.HoleChunk;
import io.extentflow.engine.nbd.message.reply.NoneChunk;
import io.extentflow.engine.nbd.message.reply.Reply;
import io.extentflow.engine.nbd.message.reply.SimpleReply;
import io.extentflow.engine.nbd.message.request.Request;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Mono;

/**
 * The transmission phase of one {@link NbdConnection}, after its handshake: sends requests (at most
 * {@link NbdClientOptions#requestsPerConnection()} in flight, the rest waiting in order), matches the
 * server's replies to them by cookie, and delivers each request's result.
 *
 * <p>Everything but {@link #submit} runs on the channel's event loop. The connection stays the owner
 * of the channel's life: a reply that breaks the protocol, a send that fails or a request without
 * reply in time closes it through {@link NbdConnection#closeWith}, and {@link #failAll()} then ends
 * every request.
 */
final class Transmission implements InPlaceReceiveAllocator.Targets {

    private final NbdConnection connection;
    private final Channel channel;
    private final NbdFrameDecoder decoder;
    private final NbdClientOptions options;
    private final String endpoint;
    private final boolean extended;
    /** Metadata context names by the ids the server gave them. */
    private final Map<Integer, String> contextNames;
    private final PendingRequests requests;
    /** The read whose target the socket read in progress writes into, or null. */
    private PendingRequest receivingInto;
    /** Read data copied from receive buffers into targets, rather than received in place. */
    private volatile long payloadBytesCopied;

    Transmission(NbdConnection connection, Channel channel, NbdFrameDecoder decoder, NbdClientOptions options,
                 String endpoint, HandshakeFlow.Result handshake) {
        this.connection = connection;
        this.channel = channel;
        this.decoder = decoder;
        this.options = options;
        this.endpoint = endpoint;
        this.extended = handshake.info().extendedHeaders();
        this.contextNames = handshake.contextNames();
        this.requests = new PendingRequests(options.requestsPerConnection());
    }

    /** Requests submitted and not yet finished (any thread). */
    int load() {
        return requests.load();
    }

    /** Nothing in flight and nothing waiting. Event loop only. */
    boolean isIdle() {
        return requests.isIdle();
    }

    /** Read data copied from receive buffers into targets (event loop writes, anyone reads). */
    long payloadBytesCopied() {
        return payloadBytesCopied;
    }

    // ---------------------------------------------------------------- sending

    /**
     * Sends one request and emits its result: for a read, the target is filled; for block status,
     * the descriptors by context name; otherwise nothing. Any thread.
     *
     * @param buffer a read's target or a write's payload, borrowed until the returned Mono terminates
     */
    Mono<Object> submit(int command, int flags, long offset, long length, ByteBuffer buffer) {
        return Mono.create(sink -> {
            PendingRequest p = new PendingRequest(command, flags, offset, length, buffer, sink, endpoint);
            requests.submitted();
            sink.onCancel(() -> {
                p.cancel();
                channel.eventLoop().execute(() -> {
                    if (requests.unqueue(p)) {
                        finish(p, null);
                    }
                });
            });
            channel.eventLoop().execute(() -> start(p));
        });
    }

    private void start(PendingRequest p) {
        if (!connection.isOpen() || connection.isRetired()) {
            finishUnsent(p);
        } else if (requests.hasRoom()) {
            send(p);
        } else {
            requests.queue(p);
        }
    }

    private void send(PendingRequest p) {
        long cookie = requests.sent(p);
        ByteBuf header = encode(new Request(p.command == NbdProtocol.CMD_WRITE && extended
                ? p.flags | NbdProtocol.CMD_FLAG_PAYLOAD_LEN : p.flags, p.command, cookie, p.offset, p.length));
        ChannelFuture f;
        if (p.command == NbdProtocol.CMD_WRITE) {
            // No copy: the caller's buffer goes to the socket. The request completes only after
            // Netty is done with it (written or failed), so the caller may then reuse it.
            f = channel.writeAndFlush(Unpooled.wrappedBuffer(header, Unpooled.wrappedBuffer(p.buffer.duplicate())));
        } else {
            f = channel.writeAndFlush(header);
        }
        f.addListener((ChannelFutureListener) done -> {
            p.written = true;
            if (!done.isSuccess()) {
                connection.closeWith("cannot send to the server: " + ImageIoException.reason(done.cause()), true);
            } else {
                deliverIfReady(p);
            }
        });
        p.timer = channel.eventLoop().schedule(() -> {
            if (!p.finished) {
                connection.closeWith("no reply from the server within " + options.timeout(), false);
            }
        }, options.timeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Sends NBD_CMD_DISC, then closes the channel. */
    void sendDisconnect() {
        ByteBuf disc = encode(new Request(0, NbdProtocol.CMD_DISC, requests.cookieWithoutReply(), 0, 0));
        channel.writeAndFlush(disc).addListener(ChannelFutureListener.CLOSE);
    }

    /** The request header in the agreed form: compact, or extended. */
    private ByteBuf encode(Request r) {
        return extended ? r.encodeExtended(channel.alloc().buffer(NbdProtocol.EXTENDED_REQUEST_HEADER_SIZE))
                : r.encode(channel.alloc().buffer(NbdProtocol.REQUEST_HEADER_SIZE));
    }

    // ---------------------------------------------------------------- receiving

    /**
     * While a read's data payload is arriving, the region of its target where the next bytes belong,
     * so the socket read lands there and nothing is copied. Only for a direct target, a payload that
     * lies inside its request (anything else is left to {@link #onReply} to reject), and a read not
     * cancelled: the {@link PendingRequest} is marked as receiving first, and its cancel waits until
     * {@link #receiveEnded()}, so a target handed back on cancel is never written to afterwards.
     */
    @Override
    public ByteBuf receiveTarget() {
        long expected = decoder.payloadExpected();
        if (expected == 0) {
            return null;
        }
        PendingRequest p = requests.inFlight(decoder.payloadCookie());
        long at = decoder.payloadOffset();
        if (p == null || !p.receivesInPlace() || at < p.offset || expected > p.length
                || at - p.offset > p.length - expected) {
            return null;
        }
        ByteBuf target = p.beginReceive((int) (at - p.offset), (int) expected);
        receivingInto = target == null ? null : p;
        return target;
    }

    /**
     * Ordinary receive buffers: between replies, while reads wait for data, just what completes a
     * data chunk's header, so the payload after it is read in place; otherwise 64 KiB (data is not
     * what they hold).
     */
    @Override
    public int nextReadSize() {
        if (requests.awaitsInPlaceData()) {
            int buffered = decoder.replyBytesBuffered();
            int prefix = decoder.dataChunkPrefix();
            if (buffered >= 0 && buffered < prefix) {
                return prefix - buffered;
            }
        }
        return NbdConnection.RECEIVE_BUFFER_SIZE;
    }

    @Override
    public void receiveEnded() {
        if (receivingInto != null) {
            receivingInto.endReceive();
            receivingInto = null;
        }
    }

    /** Handles one reply message; throws {@link NbdProtocolException} when it breaks the protocol. */
    void onReply(Reply r) {
        PendingRequest p = requests.inFlight(r.cookie());
        if (p == null) {
            throw new NbdProtocolException("reply for unknown cookie " + r.cookie());
        }
        // instanceof chains, not a pattern switch: see NbdConnection#channelRead
        if (r instanceof DataChunk d) {
            int n = d.data().readableBytes();
            p.checkContent(d.offset(), n);
            if (p.copyIn(d.offset() - p.offset, d.data())) {
                payloadBytesCopied += n;
            }
        } else if (r instanceof HoleChunk h) {
            p.checkContent(h.offset(), h.length());
            p.zeroFill(h.offset() - p.offset, (int) h.length());
        } else if (r instanceof BlockStatusChunk b) {
            if (p.command != NbdProtocol.CMD_BLOCK_STATUS) {
                throw new NbdProtocolException("block status chunk in the reply to a "
                        + NbdProtocol.commandName(p.command));
            }
            String name = contextNames.get(b.contextId());
            if (name == null) {
                throw new NbdProtocolException("block status for unknown context id " + b.contextId());
            }
            p.addStatus(name, b);
        } else if (r instanceof ErrorChunk e) {
            if (p.error == 0) {
                p.error = e.error() == 0 ? NbdProtocol.EINVAL : e.error();
                p.errorMessage = e.message();
            }
        } else if (r instanceof NoneChunk n) {
            if (!n.done()) {
                throw new NbdProtocolException("NONE chunk without the DONE flag");
            }
        } else if (r instanceof SimpleReply s) {
            if (s.error() != 0) {
                p.error = s.error();
            } else if (p.command == NbdProtocol.CMD_READ || p.command == NbdProtocol.CMD_BLOCK_STATUS) {
                throw new NbdProtocolException("simple reply to a " + NbdProtocol.commandName(p.command)
                        + " after structured replies were agreed");
            }
        }
        if (r.done()) {
            NbdException failure = p.outcome();
            if (failure == null && p.command == NbdProtocol.CMD_BLOCK_STATUS) {
                for (String context : contextNames.values()) {
                    if (!p.statusByContext.containsKey(context)) {
                        throw new NbdProtocolException("block status reply without context " + context);
                    }
                }
            }
            finish(p, failure);
            if (p.error == NbdProtocol.ESHUTDOWN) {
                connection.closeWith("the server is shutting down", true);
            }
        }
    }

    // ---------------------------------------------------------------- finishing

    /** Ends a request: removes it, sends the next waiting one, and delivers its result. */
    private void finish(PendingRequest p, NbdException failure) {
        if (p.finished) {
            return;
        }
        p.finished = true;
        p.failure = failure;
        requests.finished(p);
        if (p.timer != null) {
            p.timer.cancel(false);
        }
        PendingRequest next;
        while (connection.isOpen() && (next = requests.nextToSend()) != null) {
            send(next);
        }
        deliverIfReady(p);
        connection.disconnectIfRetiredAndIdle();
    }

    private void deliverIfReady(PendingRequest p) {
        if (!p.finished || !p.written || p.delivered) {
            return;
        }
        p.delivered = true;
        if (p.isCancelled()) {
            return; // nobody listens; an error here would only be logged as dropped
        }
        if (p.failure != null) {
            p.sink.error(p.failure);
        } else if (p.command == NbdProtocol.CMD_BLOCK_STATUS) {
            p.sink.success(p.statusByContext);
        } else {
            p.sink.success();
        }
    }

    /**
     * The channel is gone: every request sent fails as lost with the connection, every request
     * waiting as never sent.
     */
    void failAll() {
        List<PendingRequest> sent = requests.sentNow();
        List<PendingRequest> unsent = requests.takeWaiting();
        for (PendingRequest p : sent) {
            p.written = true;
            finish(p, lost(p));
        }
        for (PendingRequest p : unsent) {
            finishUnsent(p);
        }
    }

    private NbdException lost(PendingRequest p) {
        return new NbdException(NbdProtocol.commandName(p.command), endpoint, p.offset, p.length,
                connection.closedReason(), NbdException.NO_ERROR_VALUE, connection.closedTransiently(), null);
    }

    /**
     * Fails a request this connection never sent. The failure is transient (the client sends it again
     * on another connection, without using up a retry) unless the connection ended for good.
     */
    private void finishUnsent(PendingRequest p) {
        boolean open = connection.isOpen();
        boolean transientFailure = open ? connection.isRetired() : connection.closedTransiently();
        String reason = open ? NbdConnection.RETIRED : connection.closedReason();
        // nothing of it goes to the socket: a write's payload is free again at once
        p.written = true;
        finish(p, new UnsentRequestException(NbdProtocol.commandName(p.command), endpoint, p.offset, p.length,
                reason, transientFailure));
    }
}
