package io.extentflow.engine.imageio;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.RetryPolicy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.handler.timeout.ReadTimeoutException;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.HttpClientResponse;
import reactor.netty.resources.ConnectionProvider;

/**
 * A non-blocking client for one image of an imageio server ({@code http(s)://host:port/images/<ticket>}),
 * on Reactor Netty. Keeps up to {@code connections} keep-alive connections; requests beyond that wait
 * for a free connection.
 *
 * <p>Every request of the API is idempotent (ranges are absolute), so a request that fails with a
 * reset connection, a timeout or a 5xx status is retried with exponential backoff, a bounded number
 * of times. Errors are {@link ImageIoException}s naming the operation, the URL, the range and the
 * status or cause.
 */
public final class ImageioClient implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger("io.extentflow.engine.imageio");
    /** Attempts after the first one for a transient failure ({@link EndpointOptions#retries()} by default). */
    public static final int DEFAULT_RETRIES = EndpointOptions.DEFAULT_RETRIES;
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Extents of a huge image can take a while on the reference server (imageio issue #215). */
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(120);
    private static final int MAX_ERROR_BODY = 512;
    /** Largest piece of an HTTP body handed on at once (Netty's decoder cuts at 8 KiB by default). */
    public static final int BODY_PIECE = 1 << 20;
    /** Zeros for servers without the zero feature: sent as a stream of slices of this buffer. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(256 << 10).asReadOnlyBuffer();

    private final String url;
    private final String path;
    private final HttpClient http;
    private final ConnectionProvider provider;
    private final int retries;
    private final Settings settings;
    /** Set by {@link #options()}: its TCP connection joined two addresses of one host. */
    private final java.util.concurrent.atomic.AtomicBoolean sameHost = new java.util.concurrent.atomic.AtomicBoolean();

    private ImageioClient(String url, String path, HttpClient http, ConnectionProvider provider, int retries,
                          Settings settings) {
        this.url = url;
        this.path = path;
        this.http = http;
        this.provider = provider;
        this.retries = retries;
        this.settings = settings;
    }

    /**
     * A client for {@code address} ({@code http(s)://host[:port]/images/<ticket>}). Reads the CA file
     * of {@code options}, if any: call it off event loops (e.g. on {@code BlockingIo}).
     *
     * @param options     {@code caFile} and {@code insecure} apply to https
     * @param connections keep-alive connections at most
     * @param retries     attempts after the first for transient failures
     */
    public static ImageioClient create(String address, EndpointOptions options, int connections, int retries) {
        URI uri;
        try {
            uri = URI.create(address);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid imageio URL '" + address + "': " + e.getMessage(), e);
        }
        String scheme = uri.getScheme();
        if (!"http".equals(scheme) && !"https".equals(scheme) || uri.getHost() == null
                || uri.getRawPath() == null || !uri.getRawPath().startsWith("/images/")
                || uri.getRawPath().length() <= "/images/".length()) {
            throw new IllegalArgumentException("invalid imageio URL '" + address
                    + "': expected http(s)://host:port/images/<ticket>");
        }
        SslContext ssl = "https".equals(scheme) ? sslContext(options) : null;
        return new Settings(uri, ssl, retries, null).client(connections);
    }

    /** The same image with another number of connections (no file is read: safe on an event loop). */
    public ImageioClient withConnections(int connections) {
        return settings.client(connections);
    }

    /** Built once per image: building reads the CA file and the JDK's trust store (blocking). */
    private static SslContext sslContext(EndpointOptions options) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient();
            if (options.insecure()) {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE);
            } else if (options.caFile() != null) {
                b.trustManager(options.caFile().toFile());
            }
            return b.build();
        } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot set up TLS" + (options.caFile() == null ? ""
                    : " with CA file " + options.caFile()) + ": " + ImageIoException.reason(e), e);
        }
    }

    /**
     * A client for the transfer itself, with {@code connections} connections: over the server's
     * local service ({@code unix_socket}) when {@link #options()} reached the server from its own
     * host and the socket is there, as ovirt-imageio's client does; else over the URL's address.
     * Loopback TCP costs about twice the system time of a Unix socket per byte moved.
     */
    public Mono<ImageioClient> forTransfer(ImageOptions options, int connections) {
        if (options.unixSocket() == null || settings.unixSocket() != null || !sameHost.get()) {
            return Mono.just(withConnections(connections));
        }
        return BlockingIo.call(() -> java.nio.file.Files.exists(java.nio.file.Path.of(options.unixSocket())))
                .onErrorReturn(false)
                .map(exists -> exists
                        ? new Settings(settings.uri(), null, settings.retries(), options.unixSocket()).client(connections)
                        : withConnections(connections));
    }

    /** True when this client talks to the server's local service (Unix socket). */
    public boolean local() {
        return settings.unixSocket() != null;
    }

    /** True when {@code channel} joins two addresses of one host (as ovirt-imageio decides "local"). */
    private static boolean sameHost(io.netty.channel.Channel channel) {
        return channel.localAddress() instanceof java.net.InetSocketAddress l
                && channel.remoteAddress() instanceof java.net.InetSocketAddress r
                && l.getAddress() != null && l.getAddress().equals(r.getAddress());
    }

    /** Everything needed to make clients for one image; {@code unixSocket} non-null for the local service. */
    private record Settings(URI uri, SslContext ssl, int retries, String unixSocket) {

        ImageioClient client(int connections) {
            String scheme = uri.getScheme();
            int port = uri.getPort() > 0 ? uri.getPort() : "https".equals(scheme) ? 443 : 80;
            ConnectionProvider provider = ConnectionProvider.builder("imageio")
                    .maxConnections(Math.max(1, connections))
                    .pendingAcquireMaxCount(-1)
                    .pendingAcquireTimeout(Duration.ofMinutes(5))
                    .maxIdleTime(Duration.ofSeconds(50))
                    .build();
            HttpClient http = HttpClient.create(provider);
            http = unixSocket != null
                    // the local service is plain HTTP on a Unix socket; the Host header stays the URL's
                    ? http.remoteAddress(() -> new io.netty.channel.unix.DomainSocketAddress(unixSocket))
                            .headers(h -> h.set(HttpHeaderNames.HOST, uri.getHost() + ":" + port))
                    : http.host(uri.getHost()).port(port);
            http = http
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
                    // bodies arrive in up to 1 MiB per read (Netty's default stops at 64 KiB): a
                    // streamed download then hands far fewer pieces from the event loop to its reader
                    .option(ChannelOption.RCVBUF_ALLOCATOR,
                            new io.netty.channel.AdaptiveRecvByteBufAllocator(4096, 64 << 10, 1 << 20))
                    // and leave the decoder whole: its default cuts bodies into 8 KiB pieces, each
                    // one a trip through the pipeline and the reader (262,144 per GiB)
                    .httpResponseDecoder(spec -> spec.maxChunkSize(BODY_PIECE))
                    .responseTimeout(RESPONSE_TIMEOUT)
                    .keepAlive(true);
            if (ssl != null) {
                http = http.secure(s -> s.sslContext(ssl));
            }
            String clean = scheme + "://" + uri.getHost() + ":" + port + uri.getRawPath();
            return new ImageioClient(clean, uri.getRawPath(), http, provider, Math.max(0, retries), this);
        }
    }

    /** The image URL, for messages. */
    public String url() {
        return url;
    }

    /** {@code OPTIONS}: features and limits. Old servers answering 405 or 204 get {@link ImageOptions#legacy()}. */
    public Mono<ImageOptions> options() {
        return retrying("options", 0, 0, http.doOnResponse((r, conn) -> sameHost.set(sameHost(conn.channel())))
                .request(HttpMethod.OPTIONS).uri(path)
                .responseSingle((resp, body) -> {
                    int code = resp.status().code();
                    if (code == 405 || code == 204) {
                        return body.then(Mono.just(ImageOptions.legacy()));
                    }
                    if (code != 200) {
                        return failure(resp, body.asString());
                    }
                    return body.asByteArray().defaultIfEmpty(new byte[0]).handle((json, sink) -> {
                        try {
                            sink.next(ImageOptions.parse(resp.responseHeaders().get(HttpHeaderNames.ALLOW), json));
                        } catch (IOException e) {
                            sink.error(e);
                        }
                    });
                }));
    }

    /**
     * {@code GET .../extents?context=zero}, for {@code [start, start + length)} when {@code start} is
     * not null (our {@code extents-range} extension), else for the whole image.
     */
    public Mono<List<Extent>> extents(Long start, Long length) {
        String query = "/extents?context=zero" + (start == null ? "" : "&start=" + start)
                + (length == null ? "" : "&length=" + length);
        return retrying("extents", start == null ? 0 : start, length == null ? 0 : length,
                http.get().uri(path + query).responseSingle((resp, body) -> {
                    if (resp.status().code() != 200) {
                        return failure(resp, body.asString());
                    }
                    return body.asByteArray().defaultIfEmpty(new byte[0]).handle((json, sink) -> {
                        try {
                            sink.next(ImageioJson.parseExtents(json));
                        } catch (IOException e) {
                            sink.error(e);
                        }
                    });
                }));
    }

    /**
     * The image size from a one-byte {@code GET} (its {@code Content-Range} total), for servers that
     * announce neither {@code size} nor extents.
     */
    public Mono<Long> sizeByRange() {
        return retrying("size", 0, 1, http.headers(h -> h.set(HttpHeaderNames.RANGE, "bytes=0-0")).get().uri(path)
                .responseSingle((resp, body) -> {
                    if (resp.status().code() != 206) {
                        return failure(resp, body.asString());
                    }
                    String range = resp.responseHeaders().get(HttpHeaderNames.CONTENT_RANGE, "");
                    int slash = range.lastIndexOf('/');
                    try {
                        return body.then(Mono.just(Long.parseLong(range.substring(slash + 1).trim())));
                    } catch (RuntimeException e) {
                        return body.then(Mono.error(new IOException("cannot tell the image size from Content-Range '"
                                + range + "'")));
                    }
                }));
    }

    /**
     * {@code GET} with {@code Range}: fills {@code target} (its remaining bytes) with the image bytes at
     * {@code offset}, streaming the body straight into it. Advances the position to the limit.
     */
    public Mono<Void> read(long offset, ByteBuffer target) {
        int length = target.remaining();
        if (length == 0) {
            return Mono.empty();
        }
        String range = "bytes=" + offset + "-" + (offset + length - 1);
        Mono<Void> attempt = Mono.defer(() -> {
            ByteBuffer dst = target.duplicate();
            return http.headers(h -> h.set(HttpHeaderNames.RANGE, range)).get().uri(path)
                    .response((resp, body) -> {
                        if (resp.status().code() != 206) {
                            return ImageioClient.<Boolean>failure(resp, body.aggregate().asString());
                        }
                        return body.doOnNext(buf -> copy(buf, dst)).then(Mono.fromCallable(() -> {
                            if (dst.hasRemaining()) {
                                throw new IOException("short read: got " + (length - dst.remaining()) + " of "
                                        + length + " bytes");
                            }
                            return true;
                        }));
                    })
                    .then();
        });
        return retrying("read", offset, length, attempt).doOnSuccess(v -> target.position(target.limit()));
    }

    private static void copy(ByteBuf buf, ByteBuffer dst) {
        int n = buf.readableBytes();
        if (n > dst.remaining()) {
            throw new IllegalStateException("server sent more bytes than the range asked for");
        }
        ByteBuffer part = dst.duplicate();
        part.limit(part.position() + n);
        buf.readBytes(part);
        dst.position(dst.position() + n);
    }

    /**
     * {@code PUT} with {@code Content-Range}: writes {@code data} (its remaining bytes, not consumed)
     * at {@code offset}; {@code flush=y} makes the server flush before replying. The buffer is only
     * read, and not after the returned {@code Mono} terminates.
     */
    public Mono<Void> write(long offset, ByteBuffer data, boolean flush) {
        int length = data.remaining();
        return put(offset, length, flush, () -> Flux.just(Unpooled.wrappedBuffer(data.duplicate())), "write");
    }

    /** {@code PUT} of {@code length} zero bytes, for servers without the zero feature. */
    public Mono<Void> writeZeros(long offset, long length, boolean flush) {
        return put(offset, length, flush, () -> Flux.<ByteBuf, Long>generate(() -> length, (left, sink) -> {
            if (left == 0) {
                sink.complete();
                return 0L;
            }
            int n = (int) Math.min(ZEROS.capacity(), left);
            sink.next(Unpooled.wrappedBuffer(ZEROS.duplicate().limit(n)));
            return left - n;
        }), "zero");
    }

    private Mono<Void> put(long offset, long length, boolean flush,
                           java.util.function.Supplier<Flux<ByteBuf>> body, String op) {
        if (length == 0) {
            return Mono.empty();
        }
        String contentRange = "bytes " + offset + "-" + (offset + length - 1) + "/*";
        Mono<Void> attempt = Mono.defer(() -> http
                .headers(h -> h.set(HttpHeaderNames.CONTENT_LENGTH, length)
                        .set(HttpHeaderNames.CONTENT_RANGE, contentRange))
                .put().uri(path + "?flush=" + (flush ? "y" : "n"))
                .send(body.get())
                .responseSingle((resp, b) -> resp.status().code() == 200 ? b.then() : failure(resp, b.asString())));
        return retrying(op, offset, length, attempt);
    }

    /** {@code PATCH {"op":"zero"}}. */
    public Mono<Void> zero(long offset, long length, boolean flush) {
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("op", "zero");
        msg.put("offset", offset);
        msg.put("size", length);
        msg.put("flush", flush);
        return patch("zero", offset, length, msg);
    }

    /** {@code PATCH {"op":"flush"}}. */
    public Mono<Void> flush() {
        return patch("flush", 0, 0, Map.of("op", "flush"));
    }

    private Mono<Void> patch(String op, long offset, long length, Map<String, Object> msg) {
        byte[] json = ImageioJson.toBytes(msg);
        return retrying(op, offset, length, Mono.defer(() -> http
                .headers(h -> h.set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                        .set(HttpHeaderNames.CONTENT_LENGTH, json.length))
                .patch().uri(path)
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(json)))
                .responseSingle((resp, b) -> resp.status().code() == 200 ? b.then() : failure(resp, b.asString()))));
    }

    /** An error for a non-success reply, with the first line of its body (at most 512 bytes) as the reason. */
    private static <T> Mono<T> failure(HttpClientResponse resp, Mono<String> body) {
        return body.defaultIfEmpty("").flatMap(text -> Mono.error(
                new ImageioHttpException(resp.status().code(), firstLine(text, resp.status().reasonPhrase()))));
    }

    private static String firstLine(String text, String fallback) {
        String t = text.strip();
        int nl = t.indexOf('\n');
        if (nl >= 0) {
            t = t.substring(0, nl).strip();
        }
        if (t.length() > MAX_ERROR_BODY) {
            t = t.substring(0, MAX_ERROR_BODY);
        }
        return t.isEmpty() ? fallback : t;
    }

    /** Retries transient failures, then fails with an {@link ImageIoException} naming the URL and range. */
    private <T> Mono<T> retrying(String op, long offset, long length, Mono<T> attempt) {
        return new RetryPolicy(retries, FIRST_BACKOFF, MAX_BACKOFF)
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
                + ImageIoException.reason(failure) + " (retry " + retry + " of " + retries + ")";
        BlockingIo.run(() -> LOG.log(System.Logger.Level.INFO, line)).subscribe(null, e -> { });
    }

    /** Reset connections, refused connections, timeouts and 5xx replies: worth another try. */
    static boolean isTransient(Throwable t) {
        if (t instanceof ImageioHttpException e) {
            return e.retryable();
        }
        if (t instanceof javax.net.ssl.SSLException || t.getCause() instanceof javax.net.ssl.SSLException) {
            return false; // an untrusted certificate stays untrusted
        }
        return t instanceof IOException || t instanceof ReadTimeoutException
                || t instanceof reactor.netty.channel.AbortedException;
    }

    /**
     * {@code GET ?format=sparse}: the whole image as one sparse stream, as the body arrives (one
     * request; not retried, since a stream cannot be resumed midway).
     */
    public Flux<ByteBuf> sparseDownload() {
        return http.get().uri(path + "?format=sparse")
                .response((resp, body) -> resp.status().code() == 200 ? body
                        : failure(resp, body.aggregate().asString()).thenMany(Flux.<ByteBuf>empty()))
                .onErrorMap(t -> !(t instanceof ImageIoException), t -> new ImageIoException("download", url, 0, 0,
                        ImageIoException.reason(t), t));
    }

    /** {@code PUT ?format=sparse} with {@code body} (chunked): completes when the server has taken it all. */
    public Mono<Void> sparseUpload(org.reactivestreams.Publisher<ByteBuf> body) {
        return http.put().uri(path + "?format=sparse").send(body)
                .responseSingle((resp, b) -> resp.status().code() == 200 ? b.then() : failure(resp, b.asString()))
                .onErrorMap(t -> !(t instanceof ImageIoException), t -> new ImageIoException("upload", url, 0, 0,
                        ImageIoException.reason(t), t));
    }

    /** {@code GET .../checksum}: the server's blkhash of the image, in hex. */
    public Mono<String> checksum(String algorithm, int blockSize) {
        return retrying("checksum", 0, 0, Mono.defer(() -> http.get()
                .uri(path + "/checksum?algorithm=" + algorithm + "&block_size=" + blockSize)
                .responseSingle((resp, b) -> resp.status().code() == 200
                        ? b.asByteArray().map(ImageioClient::checksumOf)
                        : failure(resp, b.asString()))));
    }

    private static String checksumOf(byte[] json) {
        try {
            com.fasterxml.jackson.databind.JsonNode n = ImageioJson.MAPPER.readTree(json).get("checksum");
            if (n == null || !n.isTextual()) {
                throw new IllegalStateException("checksum reply without a checksum");
            }
            return n.asText();
        } catch (IOException e) {
            throw new IllegalStateException("bad checksum reply: " + e.getMessage(), e);
        }
    }

    /** Closes the keep-alive connections. */
    @Override
    public void close() {
        provider.disposeLater().subscribe();
    }
}
