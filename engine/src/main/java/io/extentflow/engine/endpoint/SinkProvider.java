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

    /**
     * Like {@link #openSink(String, long, EndpointOptions)}, for an image whose size is still being
     * found out (its source opening at the same time). This default waits for the size; a provider
     * that has work to do before it needs the size (connecting to a server, a handshake) overrides
     * it to do that work meanwhile, and must release what it opened when {@code size} fails or the
     * opening is cancelled.
     */
    default Mono<ImageSink> openSink(String address, Mono<Long> size, EndpointOptions options) {
        return size.flatMap(s -> openSink(address, s, options));
    }
}
