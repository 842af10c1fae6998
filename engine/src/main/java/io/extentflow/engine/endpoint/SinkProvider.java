package io.extentflow.engine.endpoint;

import io.extentflow.engine.ImageSink;
import reactor.core.publisher.Mono;

/**
 * Opens sinks for one kind of address. Found with {@link java.util.ServiceLoader}: a module adds a
 * kind by listing its provider in {@code META-INF/services/io.extentflow.engine.endpoint.SinkProvider}.
 */
public interface SinkProvider {

    /** True if this provider opens {@code address}. */
    boolean accepts(String address);

    /** Ascending order of asking, as for {@link SourceProvider#order()}. */
    default int order() {
        return 0;
    }

    /**
     * Opens {@code address} for writing an image of {@code size} bytes: creates it when it can (a new
     * file), or checks that an existing target fits that size. Errors name the address and the cause.
     */
    Mono<ImageSink> openSink(String address, long size, EndpointOptions options);
}
