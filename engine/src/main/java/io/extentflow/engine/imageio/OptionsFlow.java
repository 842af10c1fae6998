package io.extentflow.engine.imageio;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;

/** {@code OPTIONS}: what the server offers for the image (features, limits, size, local service). */
final class OptionsFlow {

    private OptionsFlow() {
    }

    /**
     * Asks {@code client}'s server; sets {@code sameHost} when the connection joined two addresses of
     * one host. Old servers answering 405 or 204 get {@link ImageOptions#legacy()}.
     */
    static Mono<ImageOptions> exchange(ImageioClient client, AtomicBoolean sameHost) {
        return client.retrying("options", 0, 0, client.http()
                .doOnResponse((r, conn) -> sameHost.set(ImageioTransport.sameHost(conn.channel())))
                .request(HttpMethod.OPTIONS).uri(client.path())
                .responseSingle((resp, body) -> {
                    int code = resp.status().code();
                    if (code == 405 || code == 204) {
                        return body.then(Mono.just(ImageOptions.legacy()));
                    }
                    if (code != 200) {
                        return ErrorReplies.failure(resp, body.asString());
                    }
                    return body.asByteArray().defaultIfEmpty(new byte[0]).handle((json, sink) -> {
                        try {
                            sink.next(ImageOptions.parse(resp.responseHeaders().get(HttpHeaderNames.ALLOW), json));
                        } catch (IOException e) {
                            sink.error(e);
                        }
                    });
                }));
    }
}
