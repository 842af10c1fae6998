package io.extentflow.engine.nbd.server;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.nbd.message.reply.ErrorChunk;
import io.extentflow.engine.nbd.message.reply.Greeting;
import io.extentflow.engine.nbd.message.reply.SimpleReply;
import io.extentflow.engine.nbd.message.request.ClientFlags;
import io.extentflow.engine.nbd.message.request.OptionRequest;
import io.extentflow.engine.nbd.message.request.Request;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.Disposables;

/**
 * One client connection, on its channel's event loop: the greeting, the {@link Handshake}, then the
 * requests, each served by the {@link RequestHandler} once the server's {@link ByteBudget} has room
 * for it. Requests run concurrently and are answered as they finish; one whose answer is in memory
 * (a BLOCK_STATUS of a cached range) is answered at once, with no budget and no other thread.
 *
 * <p>Reading pauses (auto-read off) while a request waits for the budget or the connection has
 * {@link #MAX_IN_FLIGHT} requests running, so one client cannot pile up memory or starve the others.
 * A closed connection cancels what it still runs, which releases their buffers. DISC closes the
 * connection once the requests before it are answered.
 */
final class NbdSession extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = Logger.getLogger(NbdSession.class.getName());
    /** Requests of one connection running at once (nbdcopy keeps 64 in flight). */
    static final int MAX_IN_FLIGHT = 64;

    private final NbdExport export;
    private final @Nullable SslContext tls;
    private final ByteBudget budget;
    private final DataBuffers buffers;
    private final ClientMessageDecoder decoder;
    private final Duration handshakeTimeout;
    private final String peer;

    private ChannelHandlerContext ctx;
    private Handshake handshake;
    private RequestHandler requests;
    private ScheduledFuture<?> handshakeTimer;
    private final Disposable.Composite running = Disposables.composite();
    private int inFlight;
    private int waiting;
    private boolean disconnecting;
    private boolean shuttingDown;

    NbdSession(NbdExport export, @Nullable SslContext tls, ByteBudget budget, DataBuffers buffers,
               ClientMessageDecoder decoder, Duration handshakeTimeout, String peer) {
        this.export = export;
        this.tls = tls;
        this.budget = budget;
        this.buffers = buffers;
        this.decoder = decoder;
        this.handshakeTimeout = handshakeTimeout;
        this.peer = peer;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext context) {
        this.ctx = context;
    }

    /** Connected: greet the client. */
    @Override
    public void channelActive(ChannelHandlerContext context) {
        // the greeting first: the client waits for it, Reactor Netty's set-up of the connection need not
        // come before it (the greeting goes out from here, past the handlers in front of this one)
        context.writeAndFlush(new Greeting(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES)
                .encode(context.alloc().buffer(Greeting.SIZE)));
        context.fireChannelActive();
        this.handshake = new Handshake(export, tls != null, context.alloc(), context::write);
        handshakeTimer = context.executor().schedule(() -> {
            if (requests == null && context.channel().isActive()) {
                LOG.info(() -> peer + ": no handshake within " + handshakeTimeout.toSeconds() + " s; closing");
                context.close();
            }
        }, handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
        // Reactor Netty reads only on its inbound's demand; this handler decides for itself
        context.channel().config().setAutoRead(true);
        context.read();
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        switch (msg) {
            case ClientFlags f -> after(handshake.clientFlags(f));
            case OptionRequest o -> after(handshake.option(o));
            case ClientMessage.OversizedOption o -> after(handshake.oversized(o.option(), o.length()));
            case ClientMessage.Malformed m -> {
                LOG.info(() -> peer + ": " + m.reason() + "; closing");
                context.close();
            }
            case ClientMessage.Command c -> command(c);
            default -> ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
        context.flush();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext context) {
        if (requests != null && context.channel().isWritable()) {
            requests.writable();
        }
        context.fireChannelWritabilityChanged();
    }

    private void after(Handshake.Next next) {
        switch (next) {
            case CONTINUE -> ctx.flush();
            case CLOSE -> {
                LOG.fine(() -> peer + ": " + handshake.refusal());
                ctx.writeAndFlush(ctx.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
            }
            case STARTTLS -> {
                ctx.flush();
                // the ACK has passed the pipeline: everything from here on is TLS
                ctx.pipeline().addFirst("nbd-tls", tls.newHandler(ctx.alloc()));
                handshake.tlsStarted();
            }
            case TRANSMISSION -> {
                ctx.flush();
                handshakeTimer.cancel(false);
                decoder.startTransmission(handshake.extended());
                requests = new RequestHandler(export, ctx.channel(), handshake.structured(), handshake.extended(),
                        handshake.selected(), buffers);
            }
        }
    }

    private void command(ClientMessage.Command c) {
        Request r = c.header();
        if (requests == null) {
            ReferenceCountUtil.release(c.payload());
            ctx.close();
            return;
        }
        if (r.command() == NbdProtocol.CMD_DISC) {
            ReferenceCountUtil.release(c.payload());
            disconnecting = true;
            if (inFlight > 0) {
                ctx.channel().config().setAutoRead(false); // nothing after DISC is served
            }
            closeWhenDone(); // at once when nothing runs: the client waits for the close
            return;
        }
        if (disconnecting) {
            ReferenceCountUtil.release(c.payload());
            return;
        }
        if (shuttingDown) {
            ReferenceCountUtil.release(c.payload());
            ByteBuf reply = new ReplyEncoder(ctx.alloc(), handshake.extended()).encode(handshake.structured()
                    ? new ErrorChunk(r.cookie(), true, NbdProtocol.ESHUTDOWN, "the server is shutting down", -1)
                    : new SimpleReply(r.cookie(), NbdProtocol.ESHUTDOWN), r.offset());
            ctx.writeAndFlush(reply);
            return;
        }
        if (c.payload() == null && !c.tooLarge() && requests.answerNow(r)) {
            return; // answered from memory (channelReadComplete flushes)
        }
        inFlight++;
        long cost = RequestHandler.cost(r, export.maxPayload());
        Long granted = budget.tryAcquire(cost);
        if (granted != null) {
            run(c, granted);
        } else {
            waiting++;
            updateAutoRead();
            ByteBudget.Wait[] wait = new ByteBudget.Wait[1];
            Disposable cancel = () -> {
                if (wait[0].cancel()) {
                    ReferenceCountUtil.release(c.payload()); // else the grant below owns it
                }
            };
            wait[0] = budget.acquire(cost, g -> ctx.executor().execute(() -> {
                running.remove(cancel);
                waiting--;
                if (!ctx.channel().isActive()) {
                    budget.release(g);
                    ReferenceCountUtil.release(c.payload());
                    finished();
                    return;
                }
                run(c, g);
            }));
            running.add(cancel);
        }
        updateAutoRead();
    }

    private void run(ClientMessage.Command c, long granted) {
        Disposable[] task = new Disposable[1];
        task[0] = requests.handle(c.header(), c.payload(), c.tooLarge())
                .doFinally(s -> {
                    budget.release(granted);
                    ctx.executor().execute(() -> {
                        if (task[0] != null) {
                            running.remove(task[0]);
                        }
                        finished();
                    });
                })
                .subscribe(null, e -> LOG.log(Level.WARNING, peer + ": request failed", e));
        if (!task[0].isDisposed()) {
            running.add(task[0]);
        }
    }

    private void finished() {
        inFlight--;
        updateAutoRead();
        closeWhenDone();
    }

    private void updateAutoRead() {
        boolean read = !disconnecting && waiting == 0 && inFlight < MAX_IN_FLIGHT;
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read);
        }
    }

    private void closeWhenDone() {
        if ((disconnecting || shuttingDown) && inFlight == 0) {
            ctx.flush();
            ctx.close();
        }
    }

    /** The server stops: answer ESHUTDOWN from now on and close once nothing runs. Any thread. */
    void shutdown() {
        ctx.executor().execute(() -> {
            shuttingDown = true;
            if (requests == null || inFlight == 0) {
                ctx.close();
            }
        });
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) {
        if (event instanceof IdleStateEvent && inFlight == 0) {
            LOG.info(() -> peer + ": idle; closing");
            context.close();
            return;
        }
        context.fireUserEventTriggered(event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        if (handshakeTimer != null) {
            handshakeTimer.cancel(false);
        }
        running.dispose(); // cancels the requests still running: their buffers and budget go back
        context.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        LOG.log(Level.WARNING, peer + ": " + cause + "; closing", cause);
        context.close();
    }
}
