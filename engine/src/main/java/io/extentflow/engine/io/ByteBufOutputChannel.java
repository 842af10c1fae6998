package io.extentflow.engine.io;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.Semaphore;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;

/**
 * A blocking {@link WritableByteChannel} whose bytes come out as a {@code Flux<ByteBuf>}, to send
 * what a stream writer (such as a sparse-stream sink) produces as an HTTP body. A write waits until
 * the body's subscriber asks for another chunk, so a slow peer slows the writer and at most one
 * chunk per request is buffered. Writes block: call them on {@link StreamThreads} only.
 */
public final class ByteBufOutputChannel implements WritableByteChannel {

    /** Largest chunk handed to the network. */
    private static final int MAX_CHUNK = 1 << 20;

    private final Semaphore demand = new Semaphore(0);
    private final Flux<ByteBuf> body;
    private volatile FluxSink<ByteBuf> sink;
    private volatile boolean closed;
    private volatile boolean cancelled;

    public ByteBufOutputChannel() {
        body = Flux.<ByteBuf>create(s -> {
            sink = s;
            s.onRequest(n -> demand.release((int) Math.min(n, Integer.MAX_VALUE / 2)));
            s.onCancel(() -> {
                cancelled = true;
                demand.release(Integer.MAX_VALUE / 2); // wake a waiting writer
            });
        }, FluxSink.OverflowStrategy.ERROR).doOnDiscard(ByteBuf.class, ByteBuf::release);
    }

    /** The bytes written, as chunks; subscribe once, before the first write returns. */
    public Flux<ByteBuf> body() {
        return body;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
        int total = src.remaining();
        while (src.hasRemaining()) {
            try {
                demand.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for the peer");
            }
            if (cancelled) {
                throw new IOException("the receiving side went away");
            }
            int n = Math.min(MAX_CHUNK, src.remaining());
            ByteBuf chunk = ByteBufAllocator.DEFAULT.directBuffer(n);
            int limit = src.limit();
            src.limit(src.position() + n);
            chunk.writeBytes(src);
            src.limit(limit);
            sink.next(chunk);
        }
        return total;
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    /** Ends the body. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            FluxSink<ByteBuf> s = sink;
            if (s != null) {
                s.complete();
            }
        }
    }

    /** Ends the body with an error, so the peer sees a cut transfer rather than a complete one. */
    public void abort(Throwable error) {
        closed = true;
        FluxSink<ByteBuf> s = sink;
        if (s != null) {
            s.error(error);
        }
    }
}
