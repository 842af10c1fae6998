package io.extentflow.engine.endpoint;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.io.BlockingIo;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import reactor.core.publisher.Mono;

/**
 * Opens sources and sinks by address, e.g. {@code /var/img/disk.qcow2}, {@code file:/var/img/a.raw},
 * {@code nbd+unix:///export?socket=/run/nbd.sock}, {@code https://host:54322/images/TICKET}. Which
 * kinds are known depends on the modules on the class path (see {@link SourceProvider} and
 * {@link SinkProvider}).
 */
public final class Endpoints {

    /**
     * The providers, loaded on first use. Loading reads service files from jars, so it happens on
     * the file I/O scheduler (never on an event loop, where a first call may come from).
     */
    private static final class Providers {
        static final List<SourceProvider> SOURCES = ServiceLoader.load(SourceProvider.class).stream()
                .map(ServiceLoader.Provider::get).sorted(Comparator.comparingInt(SourceProvider::order)).toList();
        static final List<SinkProvider> SINKS = ServiceLoader.load(SinkProvider.class).stream()
                .map(ServiceLoader.Provider::get).sorted(Comparator.comparingInt(SinkProvider::order)).toList();
    }

    /** What addresses look like, for error messages. */
    public static final String KNOWN_ADDRESSES =
            "expected a file path, file:, nbd://, nbd+unix://, http:// or https://";

    private Endpoints() {
    }

    /**
     * True when some provider on the class path opens {@code address} for reading (nothing is
     * opened). The first call in a process loads the providers, which reads jars: make it at start-up,
     * off any event loop.
     */
    public static boolean knowsSource(String address) {
        return Providers.SOURCES.stream().anyMatch(p -> p.accepts(address));
    }

    /** True when some provider on the class path opens {@code address} for writing; see {@link #knowsSource}. */
    public static boolean knowsSink(String address) {
        return Providers.SINKS.stream().anyMatch(p -> p.accepts(address));
    }

    /** Opens {@code address} for reading with default options. */
    public static Mono<ImageSource> source(String address) {
        return source(address, EndpointOptions.defaults());
    }

    /** Opens {@code address} for reading. */
    public static Mono<ImageSource> source(String address, EndpointOptions options) {
        return BlockingIo.call(() -> Providers.SOURCES.stream().filter(p -> p.accepts(address)).findFirst()
                        .orElseThrow(() -> unknown(address)))
                .flatMap(p -> p.openSource(address, options));
    }

    /** Opens {@code address} for writing an image of {@code size} bytes, with default options. */
    public static Mono<ImageSink> sink(String address, long size) {
        return sink(address, size, EndpointOptions.defaults());
    }

    /** Opens {@code address} for writing an image of {@code size} bytes. */
    public static Mono<ImageSink> sink(String address, long size, EndpointOptions options) {
        return sink(address, Mono.just(size), options);
    }

    /**
     * Opens {@code address} for writing an image whose size {@code size} gives later: a network target
     * connects while its source is still opening, instead of after it (see
     * {@link SinkProvider#openSink(String, Mono, EndpointOptions)}). When {@code size} fails, so does
     * the returned {@code Mono}, with that error, and whatever it opened is closed.
     */
    public static Mono<ImageSink> sink(String address, Mono<Long> size, EndpointOptions options) {
        return BlockingIo.call(() -> Providers.SINKS.stream().filter(p -> p.accepts(address)).findFirst()
                        .orElseThrow(() -> unknown(address)))
                .flatMap(p -> p.openSink(address, size, options));
    }

    private static IllegalArgumentException unknown(String address) {
        return new IllegalArgumentException("unknown address '" + address + "': " + KNOWN_ADDRESSES);
    }
}
