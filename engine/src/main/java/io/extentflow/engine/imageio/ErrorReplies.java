package io.extentflow.engine.imageio;

import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClientResponse;

/** Turns a non-success reply of an imageio server into an {@link ImageioHttpException}. */
final class ErrorReplies {

    private static final int MAX_ERROR_BODY = 512;

    private ErrorReplies() {
    }

    /** An error for a non-success reply, with the first line of its body (at most 512 bytes) as the reason. */
    static <T> Mono<T> failure(HttpClientResponse resp, Mono<String> body) {
        return body.defaultIfEmpty("").flatMap(text -> Mono.error(
                new ImageioHttpException(resp.status().code(), firstLine(text, resp.status().reasonPhrase()))));
    }

    private static String firstLine(String text, String fallback) {
        String t = text.strip();
        int nl = t.indexOf('\n');
        if (nl >= 0) {
            t = t.substring(0, nl).strip();
        }
        if (t.length() > MAX_ERROR_BODY) {
            t = t.substring(0, MAX_ERROR_BODY);
        }
        return t.isEmpty() ? fallback : t;
    }
}
