package io.extentflow.server;

import io.extentflow.engine.ImageSink;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import reactor.core.publisher.Mono;

/**
 * Writes one upload as it arrives: incoming network buffers are copied into a pooled buffer, and each
 * full pooled buffer is written to the image before more is taken from the socket (Reactor Netty
 * stops reading while nothing is requested, which pushes back on the sender). Used from one
 * {@code concatMap}: never concurrently.
 */
final class UploadWriter {

    private final ImageSink sink;
    private final ServerBuffers buffers;
    private final long offset;
    private final long size;
    private ByteBuffer current;
    private long filled;
    private long written;
    private boolean abandoned;

    /** An upload of {@code size} bytes at {@code offset}. */
    UploadWriter(ImageSink sink, ServerBuffers buffers, long offset, long size) {
        this.sink = sink;
        this.buffers = buffers;
        this.offset = offset;
        this.size = size;
    }

    /** Bytes written to the image so far. */
    long written() {
        return written;
    }

    /** Takes the readable bytes of {@code buf}, writing every pooled buffer it fills. */
    Mono<Void> consume(ByteBuf buf) {
        return Mono.defer(() -> {
            if (!buf.isReadable()) {
                return Mono.empty();
            }
            if (filled + buf.readableBytes() > size) {
                return Mono.error(ApiError.badRequest("Request body is longer than Content-Length"));
            }
            Mono<Void> ready = current != null ? Mono.empty() : buffers.acquire().handle((b, next) -> {
                b.clear().limit((int) Math.min(b.capacity(), size - filled));
                if (!adopt(b)) {
                    next.error(abandonedError());
                }
            }).then();
            return ready.then(Mono.defer(() -> {
                ByteBuffer into;
                synchronized (this) {
                    into = current;
                }
                if (into == null) {
                    return Mono.error(abandonedError());
                }
                int n = Math.min(buf.readableBytes(), into.remaining());
                ByteBuffer part = into.duplicate();
                part.limit(part.position() + n);
                buf.readBytes(part);
                into.position(into.position() + n);
                filled += n;
                return into.hasRemaining() ? Mono.empty() : writeCurrent().then(consume(buf));
            }));
        });
    }

    /** Makes {@code b} the buffer being filled, unless the upload was abandoned meanwhile (then frees it). */
    private synchronized boolean adopt(ByteBuffer b) {
        if (abandoned) {
            buffers.release(b);
            return false;
        }
        current = b;
        return true;
    }

    /**
     * Writes the filled buffer. It is taken from {@link #current} only when the write starts: a
     * write assembled but never subscribed (the upload cancelled in between) leaves it for
     * {@link #abandon()} to give back.
     */
    private Mono<Void> writeCurrent() {
        return Mono.defer(() -> {
            ByteBuffer b;
            synchronized (this) {
                b = current;
                current = null;
            }
            if (b == null) {
                return Mono.error(abandonedError());
            }
            b.flip();
            long at = offset + written;
            int n = b.remaining();
            return Transfers.detached(sink.write(at, b), () -> buffers.release(b))
                    .doOnSuccess(v -> written += n);
        });
    }

    /** After the body ended: writes what is left, and fails with 400 if the body was short. */
    Mono<Void> finish() {
        if (current != null && current.position() > 0) {
            return writeCurrent().then(Mono.defer(this::finish));
        }
        if (written < size) {
            return Mono.error(ApiError.badRequest("Expected " + size + " bytes, got " + written).closing());
        }
        return Mono.empty();
    }

    private static ApiError abandonedError() {
        return ApiError.badRequest("upload abandoned");
    }

    /** Returns a half-filled buffer when the upload ended early; later buffers are freed at once. */
    synchronized void abandon() {
        abandoned = true;
        if (current != null) {
            buffers.release(current);
            current = null;
        }
    }
}
