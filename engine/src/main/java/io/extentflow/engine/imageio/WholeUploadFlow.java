package io.extentflow.engine.imageio;

import io.extentflow.engine.ImageIoException;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpHeaderNames;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * The image's bytes from offset 0 as one plain {@code PUT} whose body is produced while it is sent
 * (a qcow2 image written in one pass). Its length is known up front and sent as {@code Content-Length}:
 * an imageio server refuses a body without one, and checks it against the ticket before it writes
 * anything. Not retried: the body is produced once and cannot be sent again.
 */
final class WholeUploadFlow {

    private WholeUploadFlow() {
    }

    /**
     * {@code PUT} of {@code length} bytes at offset 0 with {@code flush=y}: completes with the server's
     * 200, which it sends once every byte is written and flushed.
     */
    static Mono<Void> upload(ImageioClient client, Publisher<ByteBuf> body, long length) {
        return client.http()
                .headers(h -> h.set(HttpHeaderNames.CONTENT_LENGTH, length)
                        .set(HttpHeaderNames.CONTENT_RANGE, "bytes 0-" + (length - 1) + "/*"))
                .put().uri(client.path() + "?flush=y")
                .send(body)
                .responseSingle((resp, b) -> resp.status().code() == 200 ? b.then()
                        : ErrorReplies.failure(resp, b.asString()))
                .onErrorMap(t -> !(t instanceof ImageIoException), t -> new ImageIoException("upload",
                        client.url(), 0, length, ImageIoException.reason(t), t));
    }
}
