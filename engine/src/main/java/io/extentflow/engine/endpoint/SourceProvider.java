package io.extentflow.engine.endpoint;

import io.extentflow.engine.ImageSource;
import reactor.core.publisher.Mono;

/**
 * Opens sources for one kind of address. Found with {@link java.util.ServiceLoader}: a module adds a
 * kind by listing its provider in {@code META-INF/services/io.extentflow.engine.endpoint.SourceProvider}.
 */
public interface SourceProvider {

    /** True if this provider opens {@code address} (e.g. it starts with {@code nbd://}). */
    boolean accepts(String address);

    /**
     * Providers are asked in ascending order; the first that accepts an address opens it. Providers
     * of URI schemes use 0; the catch-all for plain paths uses a larger number.
     */
    default int order() {
        return 0;
    }

    /** Opens {@code address} for reading. Errors name the address and the cause. */
    Mono<ImageSource> openSource(String address, EndpointOptions options);
}
