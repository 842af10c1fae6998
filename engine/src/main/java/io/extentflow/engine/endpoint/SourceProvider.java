package io.extentflow.engine.endpoint;

import io.extentflow.engine.ImageSource;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Opens sources for one kind of address. Found with {@link java.util.ServiceLoader}: a module adds a
 * kind by listing its provider in {@code META-INF/services/io.extentflow.engine.endpoint.SourceProvider}.
 */
public interface SourceProvider {

    /** True if this provider opens {@code address} (e.g. it starts with {@code nbd://}). */
    boolean accepts(String address);

    /**
     * The addresses this provider opens, for the message about an address no provider takes, e.g.
     * {@code "nbd://host[:port]/export or nbd+unix:///export?socket=PATH"}.
     */
    String addresses();

    /**
     * What this kind of endpoint is, in a few words for messages: {@code "raw file"}, {@code "NBD export"}.
     * An option given for a copy whose ends do not take it is refused naming the source's kind and the kinds
     * that take it ({@link Endpoints#requireApplicable}). By default the {@link #addresses()}.
     */
    default String kind() {
        return addresses();
    }

    /**
     * The options this kind of endpoint honours (an option several kinds honour is one shared key).
     * Front ends offer them by iterating the providers ({@link Endpoints#sourceOptions()}); none by default.
     */
    default List<EndpointOption<?>> options() {
        return List.of();
    }

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
