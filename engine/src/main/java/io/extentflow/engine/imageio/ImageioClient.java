package io.extentflow.engine.imageio;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.dirty.DirtyExtent;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.RetryPolicy;
import io.netty.buffer.ByteBuf;
import io.netty.handler.timeout.ReadTimeoutException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLException;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * A non-blocking client for one image of an imageio server ({@code http(s)://host:port/images/<ticket>}),
 * on Reactor Netty. Keeps up to {@link ImageioClientOptions#connections()} keep-alive connections;
 * requests beyond that wait for a free connection.
 *
 * <p>The client owns the connections and the retry policy; each part of the API is a small flow of
 * its own, as r2dbc-postgresql's message flows: {@link ImageioTransport} (URL, TLS, sockets),
 * {@link OptionsFlow}, {@link ExtentsFlow}, {@link DataFlow}, {@link SparseStreamFlow}, {@link WholeUploadFlow} and
 * {@link ChecksumFlow}.
 *
 * <p>Every request of the API is idempotent (ranges are absolute), so a request that fails with a
 * reset connection, a timeout or a 5xx status is retried with exponential backoff, a bounded number
 * of times. Errors are {@link ImageIoException}s naming the operation, the URL, the range and the
 * status or cause.
 */
public final class ImageioClient implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("io.extentflow.engine.imageio");
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
    /** Largest piece of an HTTP body handed on at once (Netty's decoder cuts at 8 KiB by default). */
    public static final int BODY_PIECE = 1 << 20;

    private final ImageioTransport transport;
    private final String url;
    private final HttpClient http;
    private final ConnectionProvider pool;
    /** Set by {@link #options()}: its TCP connection joined two addresses of one host. */
    private final AtomicBoolean sameHost = new AtomicBoolean();

    private ImageioClient(ImageioTransport transport, int connections) {
        this.transport = transport;
        this.url = transport.url();
        this.pool = ImageioTransport.pool(connections);
        this.http = transport.http(pool);
    }

    /**
     * A client for {@code address} ({@code http(s)://host[:port]/images/<ticket>}) with
     * {@code options.connections()} connections. Reads the CA file of {@code options}, if any: call it
     * off event loops (e.g. on {@code BlockingIo}).
     */
    public static ImageioClient create(String address, ImageioClientOptions options) {
        return new ImageioClient(ImageioTransport.of(address, options), options.connections());
    }

    /** The same image with another number of connections (no file is read: safe on an event loop). */
    public ImageioClient withConnections(int connections) {
        return new ImageioClient(transport, connections);
    }

    /**
     * A client for the transfer itself, with {@code connections} connections: over the server's
     * local service ({@code unix_socket}) when {@link #options()} reached the server from its own
     * host and the socket is there, as ovirt-imageio's client does; else over the URL's address.
     * Loopback TCP costs about twice the system time of a Unix socket per byte moved.
     */
    public Mono<ImageioClient> forTransfer(ImageOptions options, int connections) {
        if (options.unixSocket() == null || transport.unixSocket() != null || !sameHost.get()) {
            return Mono.just(withConnections(connections));
        }
        return BlockingIo.call(() -> Files.exists(Path.of(options.unixSocket())))
                .onErrorReturn(false)
                .map(exists -> exists
                        ? new ImageioClient(transport.overUnixSocket(options.unixSocket()), connections)
                        : withConnections(connections));
    }

    /** True when this client talks to the server's local service (Unix socket). */
    public boolean local() {
        return transport.unixSocket() != null;
    }

    /** The image URL, for messages. */
    public String url() {
        return url;
    }

    /** The HTTP client over this client's connections, for the flows. */
    HttpClient http() {
        return http;
    }

    /** The image's path on the server ({@code /images/<ticket>}), for the flows. */
    String path() {
        return transport.uri().getRawPath();
    }

    /** {@code OPTIONS}: features and limits. Old servers answering 405 or 204 get {@link ImageOptions#legacy()}. */
    public Mono<ImageOptions> options() {
        return OptionsFlow.exchange(this, sameHost);
    }

    /**
     * {@code GET .../extents?context=zero}, for {@code [start, start + length)} when {@code start} is
     * not null (our {@code extents-range} extension), else for the whole image.
     */
    public Mono<List<Extent>> extents(Long start, Long length) {
        return ExtentsFlow.extents(this, start, length);
    }

    /**
     * {@code GET .../extents?context=dirty}: what changed since the ticket's checkpoint, for
     * {@code [start, start + length)} when {@code start} is not null, else for the whole image. Fails
     * with the server's 404 when the ticket has no dirty extents.
     */
    public Mono<List<DirtyExtent>> dirtyExtents(Long start, Long length) {
        return ExtentsFlow.dirtyExtents(this, start, length);
    }

    /**
     * The image size from a one-byte {@code GET} (its {@code Content-Range} total), for servers that
     * announce neither {@code size} nor extents.
     */
    public Mono<Long> sizeByRange() {
        return ExtentsFlow.sizeByRange(this);
    }

    /**
     * {@code GET} with {@code Range}: fills {@code target} (its remaining bytes) with the image bytes at
     * {@code offset}, streaming the body straight into it. Advances the position to the limit.
     */
    public Mono<Void> read(long offset, ByteBuffer target) {
        return DataFlow.read(this, offset, target);
    }

    /**
     * {@code PUT} with {@code Content-Range}: writes {@code data} (its remaining bytes, not consumed)
     * at {@code offset}; {@code flush=y} makes the server flush before replying. The buffer is only
     * read, and not after the returned {@code Mono} terminates.
     */
    public Mono<Void> write(long offset, ByteBuffer data, boolean flush) {
        return DataFlow.write(this, offset, data, flush);
    }

    /** {@code PUT} of {@code length} zero bytes, for servers without the zero feature. */
    public Mono<Void> writeZeros(long offset, long length, boolean flush) {
        return DataFlow.writeZeros(this, offset, length, flush);
    }

    /** {@code PATCH {"op":"zero"}}. */
    public Mono<Void> zero(long offset, long length, boolean flush) {
        return DataFlow.zero(this, offset, length, flush);
    }

    /** {@code PATCH {"op":"flush"}}. */
    public Mono<Void> flush() {
        return DataFlow.flush(this);
    }

    /**
     * {@code GET ?format=sparse}: the whole image as one sparse stream, as the body arrives (one
     * request; not retried, since a stream cannot be resumed midway).
     */
    public Flux<ByteBuf> sparseDownload() {
        return SparseStreamFlow.download(this);
    }

    /** {@code PUT ?format=sparse} with {@code body} (chunked): completes when the server has taken it all. */
    public Mono<Void> sparseUpload(Publisher<ByteBuf> body) {
        return SparseStreamFlow.upload(this, body);
    }

    /**
     * {@code PUT} of the image's first {@code length} bytes as one request whose body ({@code body},
     * exactly {@code length} bytes) is produced while it is sent, with {@code Content-Length}; completes
     * with the server's 200, sent once all of it is written and flushed. Not retried.
     */
    public Mono<Void> upload(Publisher<ByteBuf> body, long length) {
        return WholeUploadFlow.upload(this, body, length);
    }

    /** {@code GET .../checksum}: the server's blkhash of the image, in hex. */
    public Mono<String> checksum(String algorithm, int blockSize) {
        return ChecksumFlow.exchange(this, algorithm, blockSize);
    }

    /**
     * {@code attempt}, retried on transient failures, then failing with an {@link ImageIoException}
     * naming the operation, the URL and the range.
     */
    <T> Mono<T> retrying(String op, long offset, long length, Mono<T> attempt) {
        return new RetryPolicy(transport.options().retries(), FIRST_BACKOFF, MAX_BACKOFF)
                .run(() -> attempt, t -> isTransient(t) ? RetryPolicy.Verdict.RETRY : RetryPolicy.Verdict.FAIL,
                        (t, retry) -> logRetry(op, offset, length, t, retry),
                        (t, attempts) -> t instanceof ImageIoException ? t : new ImageIoException(op, url, offset,
                                length, ImageIoException.reason(t) + " (after " + attempts + " attempts)", t))
                .onErrorMap(t -> !(t instanceof ImageIoException), t -> new ImageIoException(op, url, offset, length,
                        ImageIoException.reason(t), t));
    }

    /** One line per retry (INFO), so a flaky peer shows in the log; logging may block, so not on this thread. */
    private void logRetry(String op, long offset, long length, Throwable failure, int retry) {
        String line = "retrying " + op + " of " + length + " bytes at offset " + offset + " on " + url + " after: "
                + ImageIoException.reason(failure) + " (retry " + retry + " of " + transport.options().retries()
                + ")";
        BlockingIo.run(() -> LOG.log(System.Logger.Level.INFO, line)).subscribe(null, e -> { });
    }

    /** Reset connections, refused connections, timeouts and 5xx replies: worth another try. */
    static boolean isTransient(Throwable t) {
        if (t instanceof ImageioHttpException e) {
            return e.retryable();
        }
        if (t instanceof SSLException || t.getCause() instanceof SSLException) {
            return false; // an untrusted certificate stays untrusted
        }
        return t instanceof IOException || t instanceof ReadTimeoutException || t instanceof AbortedException;
    }

    /** Closes the keep-alive connections. */
    @Override
    public void close() {
        pool.disposeLater().subscribe();
    }
}
