package io.extentflow.sources.http;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.capability.SourceCapability;
import io.extentflow.engine.checksum.RemoteChecksum;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.extent.ExtentWindows;
import io.extentflow.engine.imageio.Features;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.imageio.ImageOptions;
import io.extentflow.engine.imageio.ImageioClient;
import io.extentflow.engine.io.BlockingIo;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An image served by an imageio-compatible server ({@code http(s)://host:port/images/<ticket>}).
 *
 * <p>Extents, in order of preference:
 * <ul>
 *   <li>the server offers {@value Features#EXTENTS_RANGE} (ours): windows of {@link #DEFAULT_WINDOW}
 *       bytes with {@code start=}/{@code length=}, the next one prefetched while the current one is
 *       consumed;</li>
 *   <li>the server offers plain {@code extents} (ovirt-imageio), or answers a window request with
 *       the whole image (it ignored the parameters): the whole list is fetched once and served from
 *       memory;</li>
 *   <li>no extents at all: the image is one data extent.</li>
 * </ul>
 * Dirty extents ({@code context=dirty}, for incremental copies) come through {@link HttpDirtyExtents}.
 * Reads are {@code GET}s with a {@code Range}, streamed into the caller's buffer, over up to
 * {@code min(connections, max_readers)} keep-alive connections.
 */
public final class HttpSource implements ImageSource, RemoteChecksum {

    /** Bytes of image per extents request when the server takes ranges. */
    public static final long DEFAULT_WINDOW = 1L << 30;

    private final ImageioClient client;
    private final ImageOptions options;
    private final long size;
    private final long window;
    /** The whole-image list, once fetched (servers that cannot answer for a range). */
    private final AtomicReference<Mono<List<Extent>>> whole = new AtomicReference<>();
    private final HttpDirtyExtents dirty;

    private HttpSource(ImageioClient client, ImageOptions options, long size, long window, List<Extent> known) {
        this.client = client;
        this.options = options;
        this.size = size;
        this.window = window;
        this.dirty = new HttpDirtyExtents(client, options, size);
        if (known != null) {
            whole.set(Mono.just(known));
        }
    }

    /** Opens {@code url}: OPTIONS, then the size (from OPTIONS, the extents, or a one-byte GET). */
    public static Mono<HttpSource> open(String url, EndpointOptions endpointOptions, long window) {
        return Mono.defer(() -> {
            // create() may read a CA file: not on an event loop
            return BlockingIo.call(() -> ImageioClient.create(url, HttpOptions.clientOptions(endpointOptions).withConnections(1)))
                    .flatMap(probe -> probe.options()
                    .doFinally(s -> probe.close())
                    .flatMap(options -> probe.forTransfer(options,
                                    Math.min(HttpOptions.clientOptions(endpointOptions).connections(),
                                            options.maxReaders()))
                            .flatMap(client -> size(client, options)
                                    .map(sized -> new HttpSource(client, options, sized.size, window, sized.extents))
                                    .doOnError(e -> client.close()))));
        });
    }

    private record Sized(long size, List<Extent> extents) {
    }

    private static Mono<Sized> size(ImageioClient client, ImageOptions options) {
        if (options.size().isPresent()) {
            return Mono.just(new Sized(options.size().getAsLong(), null));
        }
        if (options.has(Features.EXTENTS)) {
            // The reference server has no other way to tell the size: its extents end there.
            return client.extents(null, null).map(list -> new Sized(
                    list.isEmpty() ? 0 : list.get(list.size() - 1).end(), list));
        }
        return client.sizeByRange().map(s -> new Sized(s, null));
    }

    @Override
    public String endpoint() {
        return client.url();
    }

    /** The server's checksum when it offers one (ours and ovirt-imageio do); empty otherwise. */
    @Override
    public Mono<String> remoteChecksum(String algorithm, int blockSize) {
        return options.has(Features.CHECKSUM) ? client.checksum(algorithm, blockSize) : Mono.empty();
    }

    @Override
    public String format() {
        return "raw";
    }

    @Override
    public long size() {
        return size;
    }

    /** What the server offered in OPTIONS. */
    public ImageOptions options() {
        return options;
    }

    @Override
    public Flux<Extent> extents(long start, long length) {
        if (!ImageIoException.fits(start, length, size)) {
            return Flux.error(ImageIoException.outside("extents", endpoint(), start, length, size));
        }
        if (length == 0) {
            return Flux.empty();
        }
        if (!options.has(Features.EXTENTS)) {
            return Flux.just(Extent.data(start, length));
        }
        if (whole.get() != null || !options.has(Features.EXTENTS_RANGE)) {
            return fromWhole(start, length);
        }
        return ExtentWindows.windowed(endpoint(), start, length, window, this::fetchWindow);
    }

    /** One window with start/length; a reply for the whole image means the server ignored them. */
    private Mono<List<Extent>> fetchWindow(long start, long length) {
        Mono<List<Extent>> known = whole.get();
        if (known != null) {
            return known.map(list -> slice(list, start, start + length));
        }
        return client.extents(start, length).flatMap(list -> {
            // A server that ignored start/length sent the whole image: a list that starts elsewhere
            // than asked, or that covers [0, size) when a smaller window was asked.
            boolean ignored = !list.isEmpty() && (list.get(0).start() != start
                    || list.get(0).start() == 0 && list.get(list.size() - 1).end() == size && length < size);
            if (ignored) {
                whole.compareAndSet(null, Mono.just(list));
                return Mono.just(slice(list, start, start + length));
            }
            return Mono.just(list);
        });
    }

    private Flux<Extent> fromWhole(long start, long length) {
        Mono<List<Extent>> m = whole.get();
        if (m == null) {
            Mono<List<Extent>> fetch = client.extents(null, null).cache();
            m = whole.compareAndSet(null, fetch) ? fetch : whole.get();
        }
        long end = start + length;
        return m.flatMapMany(list -> ExtentWindows.merge(Flux.fromIterable(slice(list, start, end))))
                .switchIfEmpty(Flux.error(() -> new ImageIoException("extents", endpoint(), start, length,
                        "server returned no extents for this range", null)));
    }

    /** The extents of a sorted, contiguous list that overlap {@code [from, to)}, clipped to it. */
    static List<Extent> slice(List<Extent> list, long from, long to) {
        int lo = 0;
        int hi = list.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (list.get(mid).end() <= from) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        List<Extent> out = new ArrayList<>();
        for (int i = lo; i < list.size() && list.get(i).start() < to; i++) {
            out.add(list.get(i).clip(from, to));
        }
        return out;
    }

    /**
     * {@link DirtyExtents}: the ticket's {@code context=dirty} extents, offered whenever the server
     * has extents; a ticket without them fails the first request (404).
     */
    @Override
    public <C extends SourceCapability> Optional<C> capability(Class<C> type) {
        return type == DirtyExtents.class && options.has(Features.EXTENTS) ? Optional.of(type.cast(dirty))
                : Optional.empty();
    }

    @Override
    public Mono<Void> read(long offset, ByteBuffer target) {
        int length = target.remaining();
        if (!ImageIoException.fits(offset, length, size)) {
            return Mono.error(ImageIoException.outside("read", endpoint(), offset, length, size));
        }
        return client.read(offset, target);
    }

    @Override
    public Map<String, Object> details() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("features", options.features());
        m.put("max_readers", options.maxReaders());
        m.put("max_writers", options.maxWriters());
        m.put("transport", client.local() ? "local service (unix socket " + options.unixSocket() + ")" : "tcp");
        return m;
    }

    @Override
    public void close() {
        client.close();
    }
}
