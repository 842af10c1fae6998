package io.extentflow.engine.endpoint;

import io.extentflow.engine.ImageSink;
import java.util.List;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * Opens sinks for one kind of address. Found with {@link java.util.ServiceLoader}: a module adds a
 * kind by listing its provider in {@code META-INF/services/io.extentflow.engine.endpoint.SinkProvider}.
 */
public interface SinkProvider {

    /** True if this provider opens {@code address}. */
    boolean accepts(String address);

    /**
     * The image formats this provider writes, by the words of {@link FormatOptions#OUTPUT_FORMAT}
     * ({@code qemu-img convert -O}'s): {@code raw} by default (the guest's bytes as they are).
     */
    default Set<String> formats() {
        return Set.of("raw");
    }

    /**
     * True if this provider writes {@code address} in {@code format}, or, when {@code format} is null
     * (none asked for), in the format it chooses for that address. By default: the addresses
     * {@link #accepts(String)} takes, in one of {@link #formats()}. A provider that writes a format only
     * when asked for it, or chooses it by the address's name, overrides this.
     */
    default boolean accepts(String address, String format) {
        return accepts(address) && (format == null || formats().contains(format));
    }

    /**
     * The addresses this provider opens, for the message about an address no provider takes, e.g.
     * {@code "nbd://host[:port]/export or nbd+unix:///export?socket=PATH"}.
     */
    String addresses();

    /**
     * What this kind of endpoint is, in a few words for messages: {@code "raw file"}, {@code "NBD export"}.
     * An option given for a copy whose ends do not take it is refused naming the target's kind and the kinds
     * that take it ({@link Endpoints#requireApplicable}). By default the {@link #addresses()}.
     */
    default String kind() {
        return addresses();
    }

    /**
     * The options this kind of endpoint honours (an option several kinds honour is one shared key).
     * Front ends offer them by iterating the providers ({@link Endpoints#sinkOptions()}); none by default.
     */
    default List<EndpointOption<?>> options() {
        return List.of();
    }

    /**
     * True when a copy into {@code address} that stopped part way (its process killed) can go on at a
     * checkpoint once the target is opened again: what was written and flushed stays, and opening
     * takes the partial target (a raw file, an NBD export, an imageio ticket: the default). False for
     * a target that holds part of the image in memory until {@link io.extentflow.engine.ImageSink#finish()}
     * (a qcow2 file's metadata) or cannot be opened again while partial: such a copy starts again from
     * zero, after {@link #discardPartial}.
     */
    default boolean resumable(String address, EndpointOptions options) {
        return true;
    }

    /**
     * Removes what a copy into {@code address} left when it stopped part way, for a target that is not
     * {@link #resumable}, so that the copy can start again from zero. Removes only what such a copy
     * leaves (never a finished image or a target it did not make); nothing there is no error. By
     * default nothing is done. Blocking work runs on {@link io.extentflow.engine.io.BlockingIo}.
     */
    default Mono<Void> discardPartial(String address, EndpointOptions options) {
        return Mono.empty();
    }

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
