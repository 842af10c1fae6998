package io.extentflow.engine.imageio;

import io.extentflow.engine.ImageIoException;
import io.netty.buffer.ByteBuf;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The whole image as one sparse stream ({@code ?format=sparse}, our extension), down or up. Not
 * retried: a stream cannot be resumed midway.
 */
final class SparseStreamFlow {

    private SparseStreamFlow() {
    }

    /** {@code GET ?format=sparse}: the stream as the body arrives. */
    static Flux<ByteBuf> download(ImageioClient client) {
        return client.http().get().uri(client.path() + "?format=sparse")
                .response((resp, body) -> resp.status().code() == 200 ? body
                        : ErrorReplies.failure(resp, body.aggregate().asString()).thenMany(Flux.<ByteBuf>empty()))
                .onErrorMap(t -> !(t instanceof ImageIoException), t -> new ImageIoException("download",
                        client.url(), 0, 0, ImageIoException.reason(t), t));
    }

    /** {@code PUT ?format=sparse} with {@code body} (chunked): completes when the server has taken it all. */
    static Mono<Void> upload(ImageioClient client, Publisher<ByteBuf> body) {
        return client.http().put().uri(client.path() + "?format=sparse").send(body)
                .responseSingle((resp, b) -> resp.status().code() == 200 ? b.then()
                        : ErrorReplies.failure(resp, b.asString()))
                .onErrorMap(t -> !(t instanceof ImageIoException), t -> new ImageIoException("upload",
                        client.url(), 0, 0, ImageIoException.reason(t), t));
    }
}
