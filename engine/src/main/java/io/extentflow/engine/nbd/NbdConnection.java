package io.extentflow.engine.nbd;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.nbd.message.BlockStatusChunk;
import io.extentflow.engine.nbd.message.DataChunk;
import io.extentflow.engine.nbd.message.ErrorChunk;
import io.extentflow.engine.nbd.message.Greeting;
import io.extentflow.engine.nbd.message.HoleChunk;
import io.extentflow.engine.nbd.message.NbdFrameDecoder;
import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.nbd.message.NbdProtocolException;
import io.extentflow.engine.nbd.message.NoneChunk;
import io.extentflow.engine.nbd.message.OptionReply;
import io.extentflow.engine.nbd.message.OptionRequest;
import io.extentflow.engine.nbd.message.Reply;
import io.extentflow.engine.nbd.message.Request;
import io.extentflow.engine.nbd.message.SimpleReply;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.handler.codec.DecoderException;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

/**
 * One connection to an NBD server: the handshake, then many requests in flight matched to their
 * replies by cookie.
 *
 * <p>It is the last handler of its channel's pipeline, after {@link NbdFrameDecoder}. All state is
 * touched only on the channel's event loop; callers' requests are handed over with
 * {@code eventLoop().execute}. The one exception is a read's target buffer, which a caller may take
 * back on cancel: copying into it and cancelling are serialised on the {@link Pending} itself, and
 * a cancel waits out a socket read that is landing in it (see {@link #receiveTarget()}).
 *
 * <p>A failure of the connection (server gone, reset, malformed reply, a request without reply
 * within the timeout) fails every request on it and closes it; {@link NbdClient} opens a new one.
 */
final class NbdConnection extends ChannelInboundHandlerAdapter implements InPlaceReceiveAllocator.Targets {

    private static final String DECODER = "nbd-decoder";
    private static final String HANDLER = "nbd-handler";
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10).asReadOnlyBuffer();
    private static final String RETIRED = "the connection was retired after a transient error";
    private static final String CLOSED_BY_CLIENT = "the connection was closed by the client";

    private final NbdAddress address;
    private final String endpoint;
    private final NbdClientOptions options;
    private final AtomicInteger load = new AtomicInteger();
    private volatile boolean open = true;
    private volatile boolean retired;
    private Channel channel;
    private Connection connection;
    /** Set when the channel is initialised, before its first read. */
    private NbdFrameDecoder decoder;

    // handshake state, event loop only
    private Greeting greeting;
    private MonoSink<Greeting> greetingSink;
    private MonoSink<List<OptionReply>> exchangeSink;
    private List<OptionReply> exchangeReplies;
    private int exchangeOption;
    private volatile ExportInfo info;
    private boolean extended;
    private final Map<Integer, String> contextNames = new HashMap<>();

    // transmission state, event loop only
    private final LongObjectHashMap<Pending> inFlight = new LongObjectHashMap<>();
    private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
    private long nextCookie = 1;
    /** The read whose target the socket read in progress writes into, or null. */
    private Pending receivingInto;
    /** Reads sent whose data can be received in place (direct targets), not yet finished. */
    private int inPlaceReads;
    /** Read data copied from receive buffers into targets, rather than received in place. */
    private volatile long payloadBytesCopied;
    private String closeReason;
    private boolean closeTransient;

    private NbdConnection(NbdAddress address, NbdClientOptions options) {
        this.address = address;
        this.endpoint = address.toString();
        this.options = options;
    }

    /** Connects and runs the handshake; the connection is ready for requests when this emits. */
    static Mono<NbdConnection> open(NbdAddress address, NbdClientOptions options) {
        return open(address, options, options.timeout());
    }

    /** Like {@link #open(NbdAddress, NbdClientOptions)}, giving up on the handshake after {@code handshakeTimeout}. */
    static Mono<NbdConnection> open(NbdAddress address, NbdClientOptions options, Duration handshakeTimeout) {
        return Mono.defer(() -> {
            NbdConnection c = new NbdConnection(address, options);
            TcpClient client = TcpClient.newConnection()
                    .remoteAddress(address::socketAddress)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                            (int) Math.min(Integer.MAX_VALUE, options.timeout().toMillis()))
                    // data payloads are received straight into the reads' targets
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new InPlaceReceiveAllocator(c))
                    .doOnChannelInit((observer, ch, remote) -> {
                        c.decoder = new NbdFrameDecoder();
                        ch.pipeline().addFirst(DECODER, c.decoder).addAfter(DECODER, HANDLER, c);
                    });
            if (address.isUnix()) {
                // nothing to resolve: skip setting up Netty's DNS resolver (about 0.1 s of start-up)
                client = client.resolver(NoopAddressResolverGroup.INSTANCE);
            } else {
                client = client.option(ChannelOption.TCP_NODELAY, true);
            }
            return client.connect()
                    .onErrorMap(e -> c.failure("connect", 0, 0, "cannot connect: " + ImageIoException.reason(e),
                            true, e))
                    .flatMap(conn -> {
                        c.connection = conn;
                        // Reactor Netty reads only on demand of its own inbound stream, which we do not
                        // use: our handler consumes everything, so let the channel read freely.
                        conn.channel().config().setAutoRead(true);
                        return c.handshake()
                                .timeout(handshakeTimeout)
                                .onErrorMap(TimeoutException.class, e -> c.failure("connect", 0, 0,
                                        "no answer to the handshake within " + handshakeTimeout, false, e))
                                .doOnError(e -> conn.dispose())
                                .doOnCancel(conn::dispose)
                                .thenReturn(c);
                    });
        });
    }

    /** What the handshake found. */
    ExportInfo info() {
        return info;
    }

    /** True until the connection fails or is closed. */
    boolean isOpen() {
        return open;
    }

    /** True once {@link #retire()} was called: the connection takes no new requests. */
    boolean isRetired() {
        return retired;
    }

    /**
     * Takes the connection out of service after a transient error reply, so the retry goes to a
     * fresh connection: requests already sent or waiting here finish, then it disconnects. A request
     * handed over after this (it picked the connection just before) is not sent: it fails with an
     * {@link UnsentRequestException}, which the client sends again elsewhere.
     */
    void retire() {
        retired = true;
        if (channel != null) {
            channel.eventLoop().execute(this::disconnectIfRetiredAndIdle);
        }
    }

    /**
     * Checks and disconnects in one event loop task: were the disconnect a task of its own, a request
     * handed over in between would be sent, then failed by the disconnect as closed by the client,
     * a failure no retry would repair.
     */
    private void disconnectIfRetiredAndIdle() {
        if (retired && open && inFlight.isEmpty() && waiting.isEmpty() && info != null) {
            sendDisconnect(RETIRED, true);
        }
    }

    /** Read data this connection copied from receive buffers into targets (event loop writes, anyone reads). */
    long payloadBytesCopied() {
        return payloadBytesCopied;
    }

    /** True while the socket is open (it may already refuse new requests). */
    boolean isActive() {
        return channel != null && channel.isActive();
    }

    /** Requests submitted and not yet finished: used to spread requests over connections. */
    int load() {
        return load.get();
    }

    // ---------------------------------------------------------------- handshake

    private Mono<Void> handshake() {
        List<String> queries = new ArrayList<>();
        queries.add(NbdProtocol.CONTEXT_BASE_ALLOCATION);
        if (options.allocationDepth()) {
            queries.add(NbdProtocol.CONTEXT_ALLOCATION_DEPTH);
        }
        return awaitGreeting()
                .flatMap(g -> {
                    if (!g.fixedNewstyle()) {
                        return Mono.error(handshakeError("the server does not support the fixed newstyle handshake"));
                    }
                    int flags = NbdProtocol.CLIENT_FIXED_NEWSTYLE | (g.noZeroes() ? NbdProtocol.CLIENT_NO_ZEROES : 0);
                    channel.writeAndFlush(channel.alloc().buffer(4).writeInt(flags));
                    if (!options.extendedHeaders()) {
                        return Mono.just(List.<OptionReply>of());
                    }
                    return exchange(OptionRequest.of(NbdProtocol.OPT_EXTENDED_HEADERS));
                })
                .flatMap(replies -> {
                    // Extended headers imply structured replies; servers without them say ERR_UNSUP.
                    extended = !replies.isEmpty() && replies.get(replies.size() - 1).type() == NbdProtocol.REP_ACK;
                    return extended ? Mono.just(replies) : exchange(OptionRequest.of(NbdProtocol.OPT_STRUCTURED_REPLY));
                })
                .flatMap(replies -> {
                    OptionReply last = replies.get(replies.size() - 1);
                    if (last.isError()) {
                        return Mono.error(handshakeError("the server does not offer structured replies ("
                                + NbdProtocol.optionErrorName(last.type()) + "), which this client needs"));
                    }
                    return exchange(OptionRequest.setMetaContext(address.export(), queries));
                })
                .flatMap(replies -> {
                    for (OptionReply r : replies) {
                        if (r.type() == NbdProtocol.REP_META_CONTEXT && r.data().length >= 4) {
                            ByteBuffer d = ByteBuffer.wrap(r.data()).order(ByteOrder.BIG_ENDIAN);
                            int id = d.getInt();
                            contextNames.put(id, new String(r.data(), 4, r.data().length - 4, StandardCharsets.UTF_8));
                        }
                    }
                    // An error here only means no block status: everything will read as data.
                    return exchange(OptionRequest.go(address.export(), NbdProtocol.INFO_BLOCK_SIZE));
                })
                .flatMap(this::acceptGo);
    }

    private Mono<Void> acceptGo(List<OptionReply> replies) {
        OptionReply last = replies.get(replies.size() - 1);
        if (last.isError()) {
            String text = last.text().isBlank() ? "" : ": " + last.text();
            String what = last.type() == NbdProtocol.REP_ERR_UNKNOWN
                    ? "the server has no export named '" + address.export() + "'"
                    : "the server refused the export: " + NbdProtocol.optionErrorName(last.type());
            return Mono.error(handshakeError(what + text));
        }
        long size = -1;
        int flags = 0;
        int min = ExportInfo.DEFAULT_MINIMUM_BLOCK;
        int preferred = ExportInfo.DEFAULT_PREFERRED_BLOCK;
        int max = ExportInfo.DEFAULT_MAXIMUM_PAYLOAD;
        for (OptionReply r : replies) {
            if (r.type() != NbdProtocol.REP_INFO || r.data().length < 2) {
                continue;
            }
            ByteBuffer d = ByteBuffer.wrap(r.data()).order(ByteOrder.BIG_ENDIAN);
            int infoType = d.getShort() & 0xffff;
            if (infoType == NbdProtocol.INFO_EXPORT && d.remaining() >= 10) {
                size = d.getLong();
                flags = d.getShort() & 0xffff;
            } else if (infoType == NbdProtocol.INFO_BLOCK_SIZE && d.remaining() >= 12) {
                min = d.getInt();
                preferred = d.getInt();
                max = d.getInt();
            }
        }
        if (size < 0) {
            return Mono.error(handshakeError("the server sent no export size (NBD_INFO_EXPORT)"));
        }
        if (min <= 0 || Integer.bitCount(min) != 1 || min > 65536) {
            return Mono.error(handshakeError("the server's minimum block size " + min + " is not a power of two <= 64 KiB"));
        }
        // 0xffffffff means "no limit": keep the portable 32 MiB. Otherwise obey it, in whole minimum blocks.
        long maxPayload = Integer.toUnsignedLong(max);
        int payload = maxPayload >= ExportInfo.DEFAULT_MAXIMUM_PAYLOAD || maxPayload < min
                ? ExportInfo.DEFAULT_MAXIMUM_PAYLOAD : (int) maxPayload;
        payload -= payload % min;
        info = new ExportInfo(address.export(), size, flags, min, Math.max(preferred, min), payload,
                List.copyOf(contextNames.values()), extended);
        return Mono.empty();
    }

    private Mono<Greeting> awaitGreeting() {
        return Mono.create(sink -> channel.eventLoop().execute(() -> {
            if (greeting != null) {
                sink.success(greeting);
            } else if (!open) {
                sink.error(handshakeError(closedReason()));
            } else {
                greetingSink = sink;
            }
        }));
    }

    /** Sends an option and collects its replies up to the final ACK or error. */
    private Mono<List<OptionReply>> exchange(OptionRequest option) {
        return Mono.create(sink -> channel.eventLoop().execute(() -> {
            if (!open) {
                sink.error(handshakeError(closedReason()));
                return;
            }
            exchangeSink = sink;
            exchangeOption = option.option();
            exchangeReplies = new ArrayList<>();
            channel.writeAndFlush(option.encode(channel.alloc()));
        }));
    }

    private void onOptionReply(OptionReply r) {
        if (exchangeSink == null || r.option() != exchangeOption) {
            throw new NbdProtocolException("reply to option " + r.option() + " when "
                    + (exchangeSink == null ? "no option was sent" : "option " + exchangeOption + " was sent"));
        }
        exchangeReplies.add(r);
        if (r.isFinal()) {
            MonoSink<List<OptionReply>> s = exchangeSink;
            exchangeSink = null;
            s.success(exchangeReplies);
        }
    }

    private NbdException handshakeError(String reason) {
        return failure("connect", 0, 0, reason, false, null);
    }

    // ---------------------------------------------------------------- requests

    /**
     * Sends one request and emits its result: for a read, the target is filled; for block status,
     * the descriptors by context name; otherwise nothing.
     *
     * @param buffer a read's target or a write's payload, borrowed until the returned Mono terminates
     */
    Mono<Object> submit(int command, int flags, long offset, long length, ByteBuffer buffer) {
        return Mono.create(sink -> {
            Pending p = new Pending(command, flags, offset, length, buffer, sink);
            load.incrementAndGet();
            sink.onCancel(() -> {
                p.cancel();
                channel.eventLoop().execute(() -> {
                    if (waiting.remove(p)) {
                        finish(p, null);
                    }
                });
            });
            channel.eventLoop().execute(() -> start(p));
        });
    }

    private void start(Pending p) {
        if (!open || retired) {
            finishUnsent(p);
        } else if (inFlight.size() < options.requestsPerConnection()) {
            send(p);
        } else {
            waiting.add(p);
        }
    }

    private void send(Pending p) {
        long cookie = nextCookie++;
        p.cookie = cookie;
        inFlight.put(cookie, p);
        if (p.receivesInPlace()) {
            inPlaceReads++;
        }
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
                closeWith("cannot send to the server: " + ImageIoException.reason(done.cause()), true);
            } else {
                deliverIfReady(p);
            }
        });
        p.timer = channel.eventLoop().schedule(() -> {
            if (!p.finished) {
                closeWith("no reply from the server within " + options.timeout(), false);
            }
        }, options.timeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** The request header in the agreed form: compact, or extended. */
    private ByteBuf encode(Request r) {
        return extended ? r.encodeExtended(channel.alloc().buffer(NbdProtocol.EXTENDED_REQUEST_HEADER_SIZE))
                : r.encode(channel.alloc().buffer(NbdProtocol.REQUEST_HEADER_SIZE));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    /**
     * While a read's data payload is arriving, the region of its target where the next bytes belong,
     * so the socket read lands there and nothing is copied. Only for a direct target, a payload that
     * lies inside its request (anything else is left to {@link #onReply} to reject), and a read not
     * cancelled: the {@link Pending} is marked as receiving first, and its cancel waits until
     * {@link #receiveEnded()}, so a target handed back on cancel is never written to afterwards.
     */
    @Override
    public ByteBuf receiveTarget() {
        long expected = decoder.payloadExpected();
        if (expected == 0) {
            return null;
        }
        Pending p = inFlight.get(decoder.payloadCookie());
        long at = decoder.payloadOffset();
        if (p == null || !p.receivesInPlace() || at < p.offset || at + expected > p.offset + p.length) {
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
        if (inPlaceReads > 0) {
            int buffered = decoder.replyBytesBuffered();
            int prefix = decoder.dataChunkPrefix();
            if (buffered >= 0 && buffered < prefix) {
                return prefix - buffered;
            }
        }
        return 64 << 10;
    }

    @Override
    public void receiveEnded() {
        if (receivingInto != null) {
            receivingInto.endReceive();
            receivingInto = null;
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            // instanceof chains, not pattern switches, here and in onReply: a switch on types is an
            // invokedynamic whose bootstrap spins a class at run time, which the AOT cache cannot
            // hold, so every NBD command generated and compiled it anew on the event loop
            if (msg instanceof Reply r) {
                onReply(r);
            } else if (msg instanceof OptionReply r) {
                onOptionReply(r);
            } else if (msg instanceof Greeting g) {
                onGreeting(g);
            } else {
                throw new NbdProtocolException("unexpected message " + msg.getClass().getSimpleName());
            }
        } catch (NbdProtocolException e) {
            closeWith("malformed reply: " + e.getMessage(), false);
        } finally {
            if (msg instanceof DataChunk d) {
                d.data().release();
            }
        }
    }

    private void onGreeting(Greeting g) {
        if (greetingSink != null) {
            MonoSink<Greeting> s = greetingSink;
            greetingSink = null;
            s.success(g);
        } else {
            greeting = g;
        }
    }

    private void onReply(Reply r) {
        Pending p = inFlight.get(r.cookie());
        if (p == null) {
            throw new NbdProtocolException("reply for unknown cookie " + r.cookie());
        }
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
                closeWith("the server is shutting down", true);
            }
        }
    }

    /** Ends a request: removes it, sends the next waiting one, and delivers its result. */
    private void finish(Pending p, NbdException failure) {
        if (p.finished) {
            return;
        }
        p.finished = true;
        p.failure = failure;
        if (p.cookie != 0) {
            inFlight.remove(p.cookie);
            if (p.receivesInPlace()) {
                inPlaceReads--;
            }
        }
        if (p.timer != null) {
            p.timer.cancel(false);
        }
        load.decrementAndGet();
        while (open && !waiting.isEmpty() && inFlight.size() < options.requestsPerConnection()) {
            send(waiting.poll());
        }
        deliverIfReady(p);
        disconnectIfRetiredAndIdle();
    }

    private void deliverIfReady(Pending p) {
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

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && cause.getCause() instanceof NbdProtocolException e) {
            closeWith("malformed reply: " + e.getMessage(), false);
        } else if (cause instanceof IOException) {
            closeWith("connection failed: " + ImageIoException.reason(cause), true);
        } else {
            closeWith("connection failed: " + ImageIoException.reason(cause), false);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        open = false;
        if (greetingSink != null) {
            greetingSink.error(handshakeError(closedReason()));
            greetingSink = null;
        }
        if (exchangeSink != null) {
            exchangeSink.error(handshakeError(closedReason()));
            exchangeSink = null;
        }
        List<Pending> sent = new ArrayList<>(inFlight.values());
        List<Pending> unsent = new ArrayList<>(waiting);
        waiting.clear();
        for (Pending p : sent) {
            p.written = true;
            finish(p, lost(p));
        }
        for (Pending p : unsent) {
            finishUnsent(p);
        }
        ctx.fireChannelInactive();
    }

    private String closedReason() {
        return closeReason != null ? closeReason : "the server closed the connection";
    }

    private NbdException lost(Pending p) {
        boolean transientFailure = closeReason == null || closeTransient;
        return failure(NbdProtocol.commandName(p.command), p.offset, p.length, closedReason(), transientFailure, null);
    }

    /**
     * Fails a request this connection never sent. The failure is transient (the client sends it again
     * on another connection, without using up a retry) unless the connection ended for good.
     */
    private void finishUnsent(Pending p) {
        boolean transientFailure = open ? retired : closeReason == null || closeTransient;
        String reason = open ? RETIRED : closedReason();
        // nothing of it goes to the socket: a write's payload is free again at once
        p.written = true;
        finish(p, new UnsentRequestException(NbdProtocol.commandName(p.command), endpoint, p.offset, p.length,
                reason, transientFailure));
    }

    /** Closes the connection because of {@code reason}; every request on it fails with that reason. */
    private void closeWith(String reason, boolean transientFailure) {
        if (closeReason == null) {
            closeReason = reason;
            closeTransient = transientFailure;
        }
        open = false;
        channel.close();
    }

    /**
     * Ends the connection politely: requests not yet sent fail, NBD_CMD_DISC is sent when nothing is
     * in flight, and the socket is closed. Completes when it is closed.
     */
    Mono<Void> close() {
        if (channel == null) {
            return Mono.empty();
        }
        channel.eventLoop().execute(() -> {
            if (!open) {
                channel.close();
                return;
            }
            closeWith(CLOSED_BY_CLIENT, false);
        });
        return connection == null ? Mono.empty() : connection.onDispose();
    }

    /** Like {@link #close()}, but sends NBD_CMD_DISC first when nothing is in flight. */
    Mono<Void> disconnect() {
        if (channel == null) {
            return Mono.empty();
        }
        channel.eventLoop().execute(() -> {
            if (open && inFlight.isEmpty() && waiting.isEmpty() && info != null) {
                sendDisconnect(CLOSED_BY_CLIENT, false);
            } else {
                closeWith(CLOSED_BY_CLIENT, false);
            }
        });
        return connection == null ? Mono.empty() : connection.onDispose();
    }

    /** Sends NBD_CMD_DISC and closes the socket; requests arriving later fail with {@code reason}. */
    private void sendDisconnect(String reason, boolean transientFailure) {
        open = false;
        if (closeReason == null) {
            closeReason = reason;
            closeTransient = transientFailure;
        }
        ByteBuf disc = encode(new Request(0, NbdProtocol.CMD_DISC, nextCookie++, 0, 0));
        channel.writeAndFlush(disc).addListener(ChannelFutureListener.CLOSE);
    }

    private NbdException failure(String operation, long offset, long length, String reason, boolean transientFailure,
                                 Throwable cause) {
        return new NbdException(operation, endpoint, offset, length, reason, NbdException.NO_ERROR_VALUE,
                transientFailure, cause);
    }

    /** One request from submission to its final reply. */
    private final class Pending {
        final int command;
        final int flags;
        final long offset;
        final long length;
        final ByteBuffer buffer;
        final MonoSink<Object> sink;
        long cookie;
        ScheduledFuture<?> timer;
        boolean written;
        boolean finished;
        boolean delivered;
        NbdException failure;
        int error;
        String errorMessage = "";
        long covered;
        private volatile boolean cancelled;
        /** The event loop while a socket read is writing into the target, else null. */
        private volatile Thread receiver;
        /** Address of the target's first byte once a socket read was pointed at it, else 0. */
        private long targetAddress;
        final Map<String, List<NbdExtent>> statusByContext = new LinkedHashMap<>();

        Pending(int command, int flags, long offset, long length, ByteBuffer buffer, MonoSink<Object> sink) {
            this.command = command;
            this.flags = flags;
            this.offset = offset;
            this.length = length;
            this.buffer = buffer;
            this.sink = sink;
            this.written = command != NbdProtocol.CMD_WRITE;
        }

        /** A data or hole chunk must belong to a read and lie inside it. */
        void checkContent(long at, long n) {
            if (command != NbdProtocol.CMD_READ) {
                throw new NbdProtocolException("read data in the reply to a " + NbdProtocol.commandName(command));
            }
            if (at < offset || n < 0 || at + n > offset + length) {
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
            List<NbdExtent> list = new ArrayList<>(b.lengths().length);
            long at = offset;
            for (int i = 0; i < b.lengths().length; i++) {
                if (b.lengths()[i] == 0) {
                    throw new NbdProtocolException("block status descriptor of length 0");
                }
                list.add(new NbdExtent(at, b.lengths()[i], b.flags()[i]));
                at += b.lengths()[i];
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
                return failure(op, offset, length, "malformed reply: the server's chunks covered " + covered
                        + " of " + length + " bytes", false, null);
            }
            return null;
        }
    }
}
