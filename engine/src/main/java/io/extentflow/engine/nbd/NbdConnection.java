package io.extentflow.engine.nbd;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.nbd.message.NbdFrameDecoder;
import io.extentflow.engine.nbd.message.NbdProtocolException;
import io.extentflow.engine.nbd.message.reply.DataChunk;
import io.extentflow.engine.nbd.message.reply.Greeting;
import io.extentflow.engine.nbd.message.reply.OptionReply;
import io.extentflow.engine.nbd.message.reply.Reply;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.DecoderException;
import io.netty.resolver.NoopAddressResolverGroup;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

/**
 * One connection to an NBD server, and the owner of its channel: it connects, runs the
 * {@link HandshakeFlow} through an {@link OptionExchange}, then hands the channel's replies to its
 * {@link Transmission}, which matches them to the requests in flight. It decides when the connection
 * ends (a failure, a close, a retirement) and with what reason.
 *
 * <p>It is the last handler of its channel's pipeline, after {@link NbdFrameDecoder}. All state is
 * touched only on the channel's event loop; callers' requests are handed over with
 * {@code eventLoop().execute}. The one exception is a read's target buffer, which a caller may take
 * back on cancel (see {@link PendingRequest}).
 *
 * <p>A failure of the connection (server gone, reset, malformed reply, a request without reply
 * within the timeout) fails every request on it and closes it; {@link NbdClient} opens a new one.
 */
final class NbdConnection extends ChannelInboundHandlerAdapter implements InPlaceReceiveAllocator.Targets {

    /** Reason of the requests a retired connection did not send. */
    static final String RETIRED = "the connection was retired after a transient error";
    /** Size of an ordinary receive buffer: replies other than read data are small. */
    static final int RECEIVE_BUFFER_SIZE = 64 << 10;
    private static final String DECODER = "nbd-decoder";
    private static final String HANDLER = "nbd-handler";
    private static final String CLOSED_BY_CLIENT = "the connection was closed by the client";

    private final NbdAddress address;
    private final String endpoint;
    private final NbdClientOptions options;
    private volatile boolean open = true;
    private volatile boolean retired;
    private Channel channel;
    private Connection connection;
    /** Set when the channel is initialised, before its first read. */
    private NbdFrameDecoder decoder;
    /** The handshake's messages; set when the handler is added, before the first read. */
    private OptionExchange handshake;
    /** Set on the event loop when the handshake succeeded. */
    private volatile ExportInfo info;
    /** Set on the event loop when the handshake succeeded, with {@link #info}. */
    private volatile Transmission transmission;
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
                    .onErrorMap(e -> c.failure("cannot connect: " + ImageIoException.reason(e), true, e))
                    .flatMap(conn -> {
                        c.connection = conn;
                        // Reactor Netty reads only on demand of its own inbound stream, which we do not
                        // use: our handler consumes everything, so let the channel read freely.
                        conn.channel().config().setAutoRead(true);
                        return HandshakeFlow.run(c.handshake, address, options)
                                .doOnNext(c::startTransmission)
                                .timeout(handshakeTimeout)
                                .onErrorMap(TimeoutException.class, e -> c.failure(
                                        "no answer to the handshake within " + handshakeTimeout, false, e))
                                .doOnError(e -> conn.dispose())
                                .doOnCancel(conn::dispose)
                                .thenReturn(c);
                    });
        });
    }

    /** The handshake is over: from now on the channel carries requests and replies. Event loop only. */
    private void startTransmission(HandshakeFlow.Result handshake) {
        transmission = new Transmission(this, channel, decoder, options, endpoint, handshake);
        info = handshake.info();
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
     * a failure no retry would repair. The transmission calls this whenever a request finishes.
     */
    void disconnectIfRetiredAndIdle() {
        if (retired && open && isIdle()) {
            sendDisconnect(RETIRED, true);
        }
    }

    /** The handshake is over and no request is in flight or waiting. Event loop only. */
    private boolean isIdle() {
        Transmission t = transmission;
        return t != null && t.isIdle();
    }

    /** Read data this connection copied from receive buffers into targets (event loop writes, anyone reads). */
    long payloadBytesCopied() {
        Transmission t = transmission;
        return t == null ? 0 : t.payloadBytesCopied();
    }

    /** True while the socket is open (it may already refuse new requests). */
    boolean isActive() {
        return channel != null && channel.isActive();
    }

    /** Requests submitted and not yet finished: used to spread requests over connections. */
    int load() {
        Transmission t = transmission;
        return t == null ? 0 : t.load();
    }

    /**
     * Sends one request and emits its result: for a read, the target is filled; for block status,
     * the descriptors by context name; otherwise nothing. Only once {@link #open} emitted.
     *
     * @param buffer a read's target or a write's payload, borrowed until the returned Mono terminates
     */
    Mono<Object> submit(int command, int flags, long offset, long length, ByteBuffer buffer) {
        return transmission.submit(command, flags, offset, length, buffer);
    }

    // ---------------------------------------------------------------- the channel

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        handshake = new OptionExchange(channel,
                () -> open ? null : HandshakeFlow.failure(endpoint, closedReason()));
    }

    @Override
    public ByteBuf receiveTarget() {
        Transmission t = transmission;
        return t == null ? null : t.receiveTarget();
    }

    @Override
    public int nextReadSize() {
        Transmission t = transmission;
        return t == null ? RECEIVE_BUFFER_SIZE : t.nextReadSize();
    }

    @Override
    public void receiveEnded() {
        Transmission t = transmission;
        if (t != null) {
            t.receiveEnded();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            // instanceof chains, not pattern switches, here and in Transmission.onReply: a switch on
            // types is an invokedynamic whose bootstrap spins a class at run time, which the AOT cache
            // cannot hold, so every NBD command generated and compiled it anew on the event loop
            if (msg instanceof Reply r) {
                Transmission t = transmission;
                if (t == null) {
                    throw new NbdProtocolException("reply for unknown cookie " + r.cookie());
                }
                t.onReply(r);
            } else if (msg instanceof OptionReply r) {
                handshake.onOptionReply(r);
            } else if (msg instanceof Greeting g) {
                handshake.onGreeting(g);
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
        handshake.channelClosed();
        Transmission t = transmission;
        if (t != null) {
            t.failAll();
        }
        ctx.fireChannelInactive();
    }

    // ---------------------------------------------------------------- ending

    /** Why the connection closed, in words. */
    String closedReason() {
        return closeReason != null ? closeReason : "the server closed the connection";
    }

    /** True when the requests the closing cut off may succeed elsewhere. */
    boolean closedTransiently() {
        return closeReason == null || closeTransient;
    }

    /** Closes the connection because of {@code reason}; every request on it fails with that reason. */
    void closeWith(String reason, boolean transientFailure) {
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
            if (open && isIdle()) {
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
        transmission.sendDisconnect();
    }

    private NbdException failure(String reason, boolean transientFailure, Throwable cause) {
        return new NbdException("connect", endpoint, 0, 0, reason, NbdException.NO_ERROR_VALUE,
                transientFailure, cause);
    }
}
