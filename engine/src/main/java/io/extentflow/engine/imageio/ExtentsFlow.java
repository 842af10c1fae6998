package io.extentflow.engine.imageio;

import io.extentflow.engine.Extent;
import io.extentflow.engine.dirty.DirtyExtent;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.util.List;
import reactor.core.publisher.Mono;

/** What the image holds where, and how big it is: {@code GET .../extents}, and the size from a range. */
final class ExtentsFlow {

    private ExtentsFlow() {
    }

    /**
     * {@code GET .../extents?context=zero}, for {@code [start, start + length)} when {@code start} is
     * not null (our {@code extents-range} extension), else for the whole image.
     */
    static Mono<List<Extent>> extents(ImageioClient client, Long start, Long length) {
        return fetch(client, "zero", start, length, ImageioJson::parseExtents);
    }

    /**
     * {@code GET .../extents?context=dirty}, for {@code [start, start + length)} when {@code start} is
     * not null, else for the whole image. A ticket without dirty extents answers 404.
     */
    static Mono<List<DirtyExtent>> dirtyExtents(ImageioClient client, Long start, Long length) {
        return fetch(client, "dirty", start, length, ImageioJson::parseDirtyExtents);
    }

    /** A reply parser that may fail. */
    @FunctionalInterface
    private interface Parser<T> {
        List<T> parse(byte[] json) throws IOException;
    }

    private static <T> Mono<List<T>> fetch(ImageioClient client, String context, Long start, Long length,
                                           Parser<T> parser) {
        String query = "/extents?context=" + context + (start == null ? "" : "&start=" + start)
                + (length == null ? "" : "&length=" + length);
        return client.retrying("extents", start == null ? 0 : start, length == null ? 0 : length,
                client.http().get().uri(client.path() + query).responseSingle((resp, body) -> {
                    if (resp.status().code() != 200) {
                        return ErrorReplies.failure(resp, body.asString());
                    }
                    return body.asByteArray().defaultIfEmpty(new byte[0]).<List<T>>handle((json, sink) -> {
                        try {
                            sink.next(parser.parse(json));
                        } catch (IOException e) {
                            sink.error(e);
                        }
                    });
                }));
    }

    /** The image size from a one-byte {@code GET} (its {@code Content-Range} total). */
    static Mono<Long> sizeByRange(ImageioClient client) {
        return client.retrying("size", 0, 1, client.http().headers(h -> h.set(HttpHeaderNames.RANGE, "bytes=0-0"))
                .get().uri(client.path())
                .responseSingle((resp, body) -> {
                    if (resp.status().code() != 206) {
                        return ErrorReplies.failure(resp, body.asString());
                    }
                    String range = resp.responseHeaders().get(HttpHeaderNames.CONTENT_RANGE, "");
                    int slash = range.lastIndexOf('/');
                    try {
                        return body.then(Mono.just(Long.parseLong(range.substring(slash + 1).trim())));
                    } catch (RuntimeException e) {
                        return body.then(Mono.error(new IOException("cannot tell the image size from Content-Range '"
                                + range + "'")));
                    }
                }));
    }
}
