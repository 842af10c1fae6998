package io.extentflow.engine.imageio;

import io.extentflow.engine.io.ZeroBuffer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The image's bytes: ranged {@code GET} and {@code PUT}, and {@code PATCH} for zero and flush. Each retried. */
final class DataFlow {

    /** Zeros for servers without the zero feature: sent as a stream of slices of this buffer. */
    private static final ByteBuffer ZEROS = ZeroBuffer.of(256 << 10);

    private DataFlow() {
    }

    /** {@code GET} with {@code Range} into {@code target}'s remaining bytes; see {@link ImageioClient#read}. */
    static Mono<Void> read(ImageioClient client, long offset, ByteBuffer target) {
        int length = target.remaining();
        if (length == 0) {
            return Mono.empty();
        }
        String range = "bytes=" + offset + "-" + (offset + length - 1);
        Mono<Void> attempt = Mono.defer(() -> {
            // each attempt fills the buffer from its start again
            ByteBuffer dst = target.duplicate();
            return client.http().headers(h -> h.set(HttpHeaderNames.RANGE, range)).get().uri(client.path())
                    .response((resp, body) -> {
                        if (resp.status().code() != 206) {
                            return ErrorReplies.<Boolean>failure(resp, body.aggregate().asString());
                        }
                        return body.doOnNext(buf -> copy(buf, dst)).then(Mono.fromCallable(() -> {
                            if (dst.hasRemaining()) {
                                throw new IOException("short read: got " + (length - dst.remaining()) + " of "
                                        + length + " bytes");
                            }
                            return true;
                        }));
                    })
                    .then();
        });
        return client.retrying("read", offset, length, attempt).doOnSuccess(v -> target.position(target.limit()));
    }

    private static void copy(ByteBuf buf, ByteBuffer dst) {
        int n = buf.readableBytes();
        if (n > dst.remaining()) {
            throw new IllegalStateException("server sent more bytes than the range asked for");
        }
        ByteBuffer part = dst.duplicate();
        part.limit(part.position() + n);
        buf.readBytes(part);
        dst.position(dst.position() + n);
    }

    /** {@code PUT} of {@code data}'s remaining bytes at {@code offset}; see {@link ImageioClient#write}. */
    static Mono<Void> write(ImageioClient client, long offset, ByteBuffer data, boolean flush) {
        int length = data.remaining();
        return put(client, offset, length, flush, () -> Flux.just(Unpooled.wrappedBuffer(data.duplicate())), "write");
    }

    /** {@code PUT} of {@code length} zero bytes, for servers without the zero feature. */
    static Mono<Void> writeZeros(ImageioClient client, long offset, long length, boolean flush) {
        return put(client, offset, length, flush, () -> Flux.<ByteBuf, Long>generate(() -> length, (left, sink) -> {
            if (left == 0) {
                sink.complete();
                return 0L;
            }
            int n = (int) Math.min(ZEROS.capacity(), left);
            sink.next(Unpooled.wrappedBuffer(ZEROS.duplicate().limit(n)));
            return left - n;
        }), "zero");
    }

    private static Mono<Void> put(ImageioClient client, long offset, long length, boolean flush,
                                  Supplier<Flux<ByteBuf>> body, String op) {
        if (length == 0) {
            return Mono.empty();
        }
        String contentRange = "bytes " + offset + "-" + (offset + length - 1) + "/*";
        Mono<Void> attempt = Mono.defer(() -> client.http()
                .headers(h -> h.set(HttpHeaderNames.CONTENT_LENGTH, length)
                        .set(HttpHeaderNames.CONTENT_RANGE, contentRange))
                .put().uri(client.path() + "?flush=" + (flush ? "y" : "n"))
                .send(body.get())
                .responseSingle((resp, b) -> resp.status().code() == 200 ? b.then()
                        : ErrorReplies.failure(resp, b.asString())));
        return client.retrying(op, offset, length, attempt);
    }

    /** {@code PATCH {"op":"zero"}}. */
    static Mono<Void> zero(ImageioClient client, long offset, long length, boolean flush) {
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("op", "zero");
        msg.put("offset", offset);
        msg.put("size", length);
        msg.put("flush", flush);
        return patch(client, "zero", offset, length, msg);
    }

    /** {@code PATCH {"op":"flush"}}. */
    static Mono<Void> flush(ImageioClient client) {
        return patch(client, "flush", 0, 0, Map.of("op", "flush"));
    }

    private static Mono<Void> patch(ImageioClient client, String op, long offset, long length,
                                    Map<String, Object> msg) {
        byte[] json = ImageioJson.toBytes(msg);
        return client.retrying(op, offset, length, Mono.defer(() -> client.http()
                .headers(h -> h.set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                        .set(HttpHeaderNames.CONTENT_LENGTH, json.length))
                .patch().uri(client.path())
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(json)))
                .responseSingle((resp, b) -> resp.status().code() == 200 ? b.then()
                        : ErrorReplies.failure(resp, b.asString()))));
    }
}
