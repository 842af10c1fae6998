package io.extentflow.engine.endpoint;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * A source and a sink opened together for a copy between them, by
 * {@link Endpoints#pair(String, EndpointOptions, String, EndpointOptions)}. The pair owns both:
 * close it, not its parts.
 *
 * @param source the image to read
 * @param sink   the image to write, of the source's size
 */
public record EndpointPair(ImageSource source, ImageSink sink) {

    /** A pair of two open endpoints. */
    public EndpointPair {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(sink, "sink");
    }

    /**
     * Closes the sink, then the source, without blocking the caller's thread. The source is closed
     * even when closing the sink fails; the sink's error is then the result.
     */
    public Mono<Void> closeGracefully() {
        Mono<Void> closeSource = Mono.defer(source::closeGracefully);
        return Mono.defer(sink::closeGracefully)
                .onErrorResume(e -> closeSource.onErrorResume(ignored -> Mono.empty()).then(Mono.error(e)))
                .then(closeSource);
    }
}
