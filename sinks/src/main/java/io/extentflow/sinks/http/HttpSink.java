package io.extentflow.sinks.http;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.imageio.Features;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.imageio.ImageOptions;
import io.extentflow.engine.imageio.ImageioClient;
import io.extentflow.engine.io.BlockingIo;
import java.nio.ByteBuffer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Uploads to an imageio-compatible server ({@code http(s)://host:port/images/<ticket>}).
 *
 * <p>Writes are {@code PUT}s with {@code Content-Range} and {@code flush=n}; zeroing is {@code PATCH
 * {"op":"zero"}}, or written zeros when the server lacks the {@code zero} feature; {@link #flush()}
 * is one {@code PATCH {"op":"flush"}} (servers without the {@code flush} feature flush every
 * {@code PUT} instead). Requests run over up to {@code min(connections, max_writers)} keep-alive
 * connections.
 */
public final class HttpSink implements ImageSink {

    /** Largest PUT: as the ovirt-imageio client. */
    static final int MAX_WRITE = 128 << 20;
    /** Largest zero request: keeps progress steady and server requests short. */
    static final long MAX_ZERO = 1L << 30;

    private final ImageioClient client;
    private final ImageOptions options;
    private final long size;
    private final int connections;

    private HttpSink(ImageioClient client, ImageOptions options, long size, int connections) {
        this.client = client;
        this.options = options;
        this.size = size;
        this.connections = connections;
    }

    /**
     * Opens {@code url} for an image of {@code size} bytes: the ticket must allow writing, and hold
     * at least {@code size} bytes when the server says how many.
     */
    public static Mono<HttpSink> open(String url, long size, EndpointOptions endpointOptions) {
        return open(url, Mono.just(size), endpointOptions);
    }

    /**
     * Like {@link #open(String, long, EndpointOptions)}, asking the server's OPTIONS while the image's
     * {@code size} is still to come (its source opening at the same time).
     */
    public static Mono<HttpSink> open(String url, Mono<Long> size, EndpointOptions endpointOptions) {
        return Mono.defer(() -> {
            // create() may read a CA file: not on an event loop
            return BlockingIo.call(() -> ImageioClient.create(url, HttpOptions.clientOptions(endpointOptions).withConnections(1)))
                    .flatMap(probe -> probe.options()
                    .zipWhen(options -> size)
                    .doFinally(s -> probe.close())
                    .flatMap(optionsAndSize -> {
                        ImageOptions options = optionsAndSize.getT1();
                        long sourceSize = optionsAndSize.getT2();
                        if (sourceSize == ImageSource.UNKNOWN_SIZE && options.size().isEmpty()) {
                            return Mono.error(new ImageIoException("open", url, 0, 0, "the server does not "
                                    + "tell the ticket's size, which a stream of unknown size needs", null));
                        }
                        // a stream (size unknown until its end) is written into the ticket's image as
                        // it is; a frame past its end fails as a range outside the image
                        long imageSize = sourceSize == ImageSource.UNKNOWN_SIZE ? options.size().getAsLong()
                                : sourceSize;
                        if (!options.writable()) {
                            return Mono.error(new ImageIoException("open", url, 0, imageSize,
                                    "the ticket does not allow writing (Allow: " + String.join(",", options.allow())
                                            + ")", null));
                        }
                        if (options.size().isPresent() && options.size().getAsLong() < imageSize) {
                            return Mono.error(new ImageIoException("open", url, 0, imageSize, "the ticket holds "
                                    + options.size().getAsLong() + " bytes, the image needs " + imageSize, null));
                        }
                        int connections = Math.min(
                                HttpOptions.clientOptions(endpointOptions).connections(),
                                options.maxWriters());
                        return probe.forTransfer(options, connections)
                                .map(client -> new HttpSink(client, options, imageSize, connections));
                    }));
        });
    }

    @Override
    public String endpoint() {
        return client.url();
    }

    @Override
    public long size() {
        return size;
    }

    /** True when the sink writes through the server's local service (its Unix socket). */
    public boolean local() {
        return client.local();
    }

    /** What the server offered in OPTIONS. */
    public ImageOptions options() {
        return options;
    }

    @Override
    public SinkCapabilities capabilities() {
        return new SinkCapabilities(false, MAX_WRITE, MAX_ZERO, connections);
    }

    private boolean flushEachRequest() {
        return !options.has(Features.FLUSH);
    }

    @Override
    public Mono<Void> write(long offset, ByteBuffer data) {
        int length = data.remaining();
        if (!ImageIoException.fits(offset, length, size)) {
            return Mono.error(outside("write", offset, length));
        }
        return client.write(offset, data, flushEachRequest());
    }

    @Override
    public Mono<Void> zero(long offset, long length) {
        if (!ImageIoException.fits(offset, length, size)) {
            return Mono.error(outside("zero", offset, length));
        }
        if (options.has(Features.ZERO)) {
            return client.zero(offset, length, flushEachRequest());
        }
        // No zero feature: send the zeros, in PUTs of at most MAX_WRITE bytes.
        return Flux.range(0, (int) ((length + MAX_WRITE - 1) / MAX_WRITE))
                .concatMap(i -> {
                    long at = offset + (long) i * MAX_WRITE;
                    return client.writeZeros(at, Math.min(MAX_WRITE, offset + length - at), flushEachRequest());
                })
                .then();
    }

    @Override
    public Mono<Void> flush() {
        return options.has(Features.FLUSH) ? client.flush() : Mono.empty();
    }

    private ImageIoException outside(String op, long offset, long length) {
        return ImageIoException.outside(op, endpoint(), offset, length, size);
    }

    @Override
    public void close() {
        client.close();
    }
}
