package io.extentflow.engine.nbd;

import io.extentflow.engine.nbd.message.NbdProtocolException;
import io.extentflow.engine.nbd.message.reply.Greeting;
import io.extentflow.engine.nbd.message.reply.OptionReply;
import io.extentflow.engine.nbd.message.request.ClientFlags;
import io.extentflow.engine.nbd.message.request.OptionRequest;
import io.netty.channel.Channel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * A connection's side of the handshake: sends what {@link HandshakeFlow} asks and hands it the
 * server's greeting and option replies, one option at a time. State on the channel's event loop only.
 */
final class OptionExchange implements HandshakeFlow.Exchange {

    private final Channel channel;
    /** Why the connection is closed, or null while it is open. */
    private final Supplier<NbdException> closed;
    private Greeting greeting;
    private MonoSink<Greeting> greetingSink;
    private MonoSink<List<OptionReply>> exchangeSink;
    private List<OptionReply> exchangeReplies;
    private int exchangeOption;

    /**
     * @param closed the failure that ends the handshake because the connection is closed, or null
     *               while it is open
     */
    OptionExchange(Channel channel, Supplier<NbdException> closed) {
        this.channel = channel;
        this.closed = closed;
    }

    @Override
    public Mono<Greeting> greeting() {
        return Mono.create(sink -> channel.eventLoop().execute(() -> {
            NbdException failure;
            if (greeting != null) {
                sink.success(greeting);
            } else if ((failure = closed.get()) != null) {
                sink.error(failure);
            } else {
                greetingSink = sink;
            }
        }));
    }

    @Override
    public void send(ClientFlags flags) {
        channel.writeAndFlush(flags.encode(channel.alloc().buffer(ClientFlags.SIZE)));
    }

    @Override
    public Mono<List<OptionReply>> exchange(OptionRequest option) {
        return Mono.create(sink -> channel.eventLoop().execute(() -> {
            NbdException failure = closed.get();
            if (failure != null) {
                sink.error(failure);
                return;
            }
            exchangeSink = sink;
            exchangeOption = option.option();
            exchangeReplies = new ArrayList<>();
            channel.writeAndFlush(option.encode(channel.alloc()));
        }));
    }

    /** The server's greeting arrived. */
    void onGreeting(Greeting g) {
        if (greetingSink != null) {
            MonoSink<Greeting> s = greetingSink;
            greetingSink = null;
            s.success(g);
        } else {
            greeting = g;
        }
    }

    /** A reply to the option sent arrived; throws {@link NbdProtocolException} if no option awaits it. */
    void onOptionReply(OptionReply r) {
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

    /** The channel closed: whatever the handshake waits for fails with the reason it closed. */
    void channelClosed() {
        if (greetingSink != null) {
            greetingSink.error(closed.get());
            greetingSink = null;
        }
        if (exchangeSink != null) {
            exchangeSink.error(closed.get());
            exchangeSink = null;
        }
    }
}
