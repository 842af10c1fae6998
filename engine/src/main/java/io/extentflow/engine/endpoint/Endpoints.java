package io.extentflow.engine.endpoint;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.io.BlockingIo;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.ServiceLoader;
import java.util.concurrent.CancellationException;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Opens sources and sinks by address, e.g. {@code /var/img/disk.qcow2}, {@code file:/var/img/a.raw},
 * {@code nbd+unix:///export?socket=/run/nbd.sock}, {@code https://host:54322/images/TICKET}. Which
 * kinds are known depends on the modules on the class path (see {@link SourceProvider} and
 * {@link SinkProvider}); so do the {@link EndpointOption}s that {@link #options()} lists.
 */
public final class Endpoints {

    /**
     * The providers, loaded on first use. Loading reads service files from jars, so it happens on
     * the file I/O scheduler (never on an event loop, where a first call may come from).
     */
    private static final class Providers {
        // Lambdas of our own, not Comparator.comparingInt: the JDK spins that one's class at run time
        // (the AOT cache holds ours), a few milliseconds of every command's start.
        static final List<SourceProvider> SOURCES = ServiceLoader.load(SourceProvider.class).stream()
                .map(ServiceLoader.Provider::get).sorted((a, b) -> Integer.compare(a.order(), b.order())).toList();
        static final List<SinkProvider> SINKS = ServiceLoader.load(SinkProvider.class).stream()
                .map(ServiceLoader.Provider::get).sorted((a, b) -> Integer.compare(a.order(), b.order())).toList();
    }

    private Endpoints() {
    }

    /**
     * What addresses the source providers on the class path open, for messages about an address none
     * takes: {@code "expected nbd://...; http(s)://...; ...; a file path or file: URI (raw or qcow2)"},
     * in the order the providers are asked. Loads the providers (see {@link #knowsSource}).
     */
    public static String sourceAddresses() {
        return expected(Providers.SOURCES.stream().map(SourceProvider::addresses).toList());
    }

    /** What addresses the sink providers on the class path open; see {@link #sourceAddresses()}. */
    public static String sinkAddresses() {
        return expected(Providers.SINKS.stream().map(SinkProvider::addresses).toList());
    }

    private static String expected(List<String> kinds) {
        return "expected " + String.join("; ", new LinkedHashSet<>(kinds));
    }

    /**
     * The options the source providers on the class path honour, each once, in the order the providers
     * are asked: what a front end offers for a command that only reads.
     */
    public static List<EndpointOption<?>> sourceOptions() {
        return distinct(Providers.SOURCES.stream().flatMap(p -> p.options().stream()).toList());
    }

    /** The options the sink providers on the class path honour, each once. */
    public static List<EndpointOption<?>> sinkOptions() {
        return distinct(Providers.SINKS.stream().flatMap(p -> p.options().stream()).toList());
    }

    /**
     * The options of all providers, sources' first, each once: what a front end offers for a copy.
     * Worked out once (the providers do not change while the process runs): a daemon of a fleet parses
     * the request of every job it claims, which asks for them.
     */
    public static List<EndpointOption<?>> options() {
        List<EndpointOption<?>> all = allOptions;
        if (all == null) {
            List<EndpointOption<?>> both = new ArrayList<>(sourceOptions());
            both.addAll(sinkOptions());
            all = distinct(both);
            allOptions = all; // two threads racing here store equal lists
        }
        return all;
    }

    /** {@link #options()} once worked out. */
    private static volatile List<EndpointOption<?>> allOptions;

    /**
     * The option called {@code name} (its {@link EndpointOption#name()} or {@link EndpointOption#jsonName()})
     * among {@link #options()}; an unknown name is an {@link IllegalArgumentException} listing the known ones.
     */
    public static EndpointOption<?> option(String name) {
        return options().stream().filter(o -> o.name().equals(name) || o.jsonName().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown option '" + name + "' (known: "
                        + options().stream().map(EndpointOption::name).sorted().collect(Collectors.joining(", "))
                        + ")"));
    }

    /** {@code options} without repeats (a shared key is one object), keeping the first place of each. */
    private static List<EndpointOption<?>> distinct(List<EndpointOption<?>> options) {
        List<EndpointOption<?>> out = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (EndpointOption<?> o : options) {
            if (out.stream().anyMatch(seen -> seen == o)) {
                continue;
            }
            if (!names.add(o.name())) {
                // two keys under one name would make the command line and JSON ambiguous
                throw new IllegalStateException("two endpoint options are called '" + o.name() + "'");
            }
            out.add(o);
        }
        return List.copyOf(out);
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
                        .orElseThrow(() -> unknown(address, sourceAddresses())))
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
        return BlockingIo.call(() -> sinkProvider(address, options.get(FormatOptions.OUTPUT_FORMAT)))
                .flatMap(p -> p.openSink(address, size, options));
    }

    /**
     * True when a copy into {@code target} that stopped part way can go on at a checkpoint (see
     * {@link SinkProvider#resumable}); an address no provider takes is not. Nothing is opened.
     */
    public static boolean resumable(String target, EndpointOptions options) {
        SinkProvider p = writer(target, options.get(FormatOptions.OUTPUT_FORMAT));
        return p != null && p.resumable(target, options);
    }

    /**
     * Removes what a copy into {@code target} that is not {@link #resumable} left when it stopped part
     * way, so that it can start again from zero ({@link SinkProvider#discardPartial}).
     */
    public static Mono<Void> discardPartial(String target, EndpointOptions options) {
        return BlockingIo.call(() -> sinkProvider(target, options.get(FormatOptions.OUTPUT_FORMAT)))
                .flatMap(p -> p.discardPartial(target, options));
    }

    /** The image formats the sink providers on the class path write, sorted: what {@code --output-format} takes. */
    public static List<String> formats() {
        return Providers.SINKS.stream().flatMap(p -> p.formats().stream()).distinct().sorted().toList();
    }

    /**
     * The first provider that writes {@code address} in {@code format} (null: the provider's choice);
     * none is an {@link IllegalArgumentException} saying whether the address or the format is the problem.
     */
    private static SinkProvider sinkProvider(String address, String format) {
        return Providers.SINKS.stream().filter(p -> p.accepts(address, format)).findFirst().orElseThrow(() -> {
            if (format == null || Providers.SINKS.stream().noneMatch(p -> p.accepts(address))) {
                return unknown(address, sinkAddresses());
            }
            if (!formats().contains(format)) {
                return new IllegalArgumentException("unknown output format '" + format + "' (known: "
                        + String.join(", ", formats()) + ")");
            }
            List<String> there = formats().stream().filter(f -> writes(address, f)).toList();
            return new IllegalArgumentException("'" + address + "' cannot be written as " + format
                    + " (formats written there: " + String.join(", ", there) + ")");
        });
    }

    /** The first provider that writes {@code address} in {@code format} (null: its choice), or null. */
    private static SinkProvider writer(String address, String format) {
        return Providers.SINKS.stream().filter(p -> p.accepts(address, format)).findFirst().orElse(null);
    }

    private static boolean writes(String address, String format) {
        return Providers.SINKS.stream().anyMatch(p -> p.accepts(address, format));
    }

    /**
     * Refuses an option the user gave that neither end of a copy from {@code source} to {@code target}
     * takes, as {@code qemu-img} refuses {@code -c} for a raw target: without this a {@code --compress} to
     * a raw file would write it plain without a word. An option counts when its provider lists it
     * ({@link SourceProvider#options()}, {@link SinkProvider#options()}); {@link FormatOptions#OUTPUT_FORMAT}
     * always does, as it chose the target's provider; a flag set to false asks for nothing. Nothing is
     * opened. An address no provider takes is left to the opening, which names it.
     *
     * @param given    the options the user gave (not the ones a front end defaulted)
     * @param spelling how the user spelt an option ({@code --compress}, {@code options.compress})
     * @throws IllegalArgumentException one line naming the option, the end(s) it was meant for and the
     *         kinds of endpoint that take it, e.g. {@code "--compress does not apply to target out.img
     *         (raw file); it applies to: qcow2 file targets"}
     */
    public static void requireApplicable(String source, String target, EndpointOptions given,
            Function<EndpointOption<?>, String> spelling) {
        SourceProvider from = Providers.SOURCES.stream().filter(p -> p.accepts(source)).findFirst().orElse(null);
        SinkProvider to = writer(target, given.get(FormatOptions.OUTPUT_FORMAT));
        if (from == null || to == null) {
            return;
        }
        for (var entry : given.asMap().entrySet()) {
            EndpointOption<?> option = entry.getKey();
            if (Boolean.FALSE.equals(entry.getValue()) || option == FormatOptions.OUTPUT_FORMAT
                    || lists(from.options(), option) || lists(to.options(), option)) {
                continue;
            }
            List<String> sources = Providers.SOURCES.stream().filter(p -> lists(p.options(), option))
                    .map(p -> p.kind() + " sources").distinct().toList();
            List<String> sinks = Providers.SINKS.stream().filter(p -> lists(p.options(), option))
                    .map(p -> p.kind() + " targets").distinct().toList();
            List<String> ends = new ArrayList<>();
            if (!sources.isEmpty()) {
                ends.add("source " + source + " (" + from.kind() + ")");
            }
            if (!sinks.isEmpty()) {
                ends.add("target " + target + " (" + to.kind() + ")");
            }
            List<String> takers = new ArrayList<>(sources);
            takers.addAll(sinks);
            throw new IllegalArgumentException(spelling.apply(option) + " does not apply to "
                    + (ends.isEmpty() ? "this copy" : String.join(" or ", ends))
                    + (takers.isEmpty() ? "" : "; it applies to: " + String.join(", ", takers)));
        }
    }

    private static boolean lists(List<EndpointOption<?>> options, EndpointOption<?> option) {
        return options.stream().anyMatch(o -> o == option);
    }

    /**
     * Opens {@code source} for reading and {@code target} for writing an image of the source's size,
     * at once: a network target connects and shakes hands while the source opens, instead of after
     * it (see {@link #sink(String, Mono, EndpointOptions)}), so a copy between two servers starts a
     * round trip or more sooner.
     *
     * <p>The {@code Mono} gives both or neither: when one end fails to open, the other is closed,
     * whether it opened already or was still opening, and the error is the first failure (a source
     * that fails also fails the target's wait for the size with the same error). Cancelling it closes
     * what either end opened. Use it with {@code Mono.usingWhen(pair, ..., EndpointPair::closeGracefully)}.
     */
    public static Mono<EndpointPair> pair(String source, EndpointOptions sourceOptions, String target,
            EndpointOptions targetOptions) {
        return Mono.defer(() -> {
            Sinks.One<Long> size = Sinks.one();
            Mono<ImageSource> opening = source(source, sourceOptions)
                    .doOnNext(s -> size.tryEmitValue(s.size()))
                    .doOnError(size::tryEmitError)
                    .doOnCancel(() -> size.tryEmitError(new CancellationException("the copy was cancelled")));
            // zip cancels the other end when one fails, and hands an end that opened already, or opens
            // after a cancel, to the discard hooks below
            return Mono.zip(opening, sink(target, size.asMono(), targetOptions), EndpointPair::new)
                    .doOnDiscard(ImageSource.class, s -> closeQuietly(s.closeGracefully()))
                    .doOnDiscard(ImageSink.class, s -> closeQuietly(s.closeGracefully()));
        });
    }

    private static void closeQuietly(Mono<Void> closing) {
        // the error that matters is the one that stopped the pair; a failing close adds nothing to it
        closing.subscribe(null, e -> { });
    }

    private static IllegalArgumentException unknown(String address, String expected) {
        return new IllegalArgumentException("unknown address '" + address + "': " + expected);
    }
}
