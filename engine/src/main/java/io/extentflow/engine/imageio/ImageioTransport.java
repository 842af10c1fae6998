package io.extentflow.engine.imageio;

import io.extentflow.engine.ImageIoException;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import javax.net.ssl.SSLException;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * The socket and TLS set-up of an {@link ImageioClient}: the checked URL, the TLS context (built once
 * per image: it reads the CA file and the JDK's trust store) and, for the server's local service, the
 * Unix socket. Makes the Reactor Netty client and its connection pool for a number of connections.
 *
 * @param uri        the image URL
 * @param ssl        the TLS context for {@code https}, else null
 * @param options    what the client was asked for
 * @param unixSocket the server's local service to use instead of the URL's address, or null
 */
record ImageioTransport(URI uri, SslContext ssl, ImageioClientOptions options, String unixSocket) {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Extents of a huge image can take a while on the reference server (imageio issue #215). */
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(120);

    /** Checks {@code address} and builds its TLS context (blocking: reads files). */
    static ImageioTransport of(String address, ImageioClientOptions options) {
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
        return new ImageioTransport(uri, ssl, options, null);
    }

    private static SslContext sslContext(ImageioClientOptions options) {
        try {
            SslContextBuilder b = SslContextBuilder.forClient();
            if (options.insecure()) {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE);
            } else if (options.caFile() != null) {
                b.trustManager(options.caFile().toFile());
            }
            return b.build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot set up TLS" + (options.caFile() == null ? ""
                    : " with CA file " + options.caFile()) + ": " + ImageIoException.reason(e), e);
        }
    }

    /** The same image over the server's local service at {@code socket} (plain HTTP: no TLS). */
    ImageioTransport overUnixSocket(String socket) {
        return new ImageioTransport(uri, null, options, socket);
    }

    int port() {
        return uri.getPort() > 0 ? uri.getPort() : "https".equals(uri.getScheme()) ? 443 : 80;
    }

    /** The URL as messages show it, with the port spelt out. */
    String url() {
        return uri.getScheme() + "://" + uri.getHost() + ":" + port() + uri.getRawPath();
    }

    /** A pool of up to {@code connections} keep-alive connections; requests beyond them wait for one. */
    static ConnectionProvider pool(int connections) {
        return ConnectionProvider.builder("imageio")
                .maxConnections(Math.max(1, connections))
                .pendingAcquireMaxCount(-1)
                .pendingAcquireTimeout(Duration.ofMinutes(5))
                .maxIdleTime(Duration.ofSeconds(50))
                .build();
    }

    /** The HTTP client over {@code pool}'s connections. */
    HttpClient http(ConnectionProvider pool) {
        HttpClient http = HttpClient.create(pool);
        http = unixSocket != null
                // the local service is plain HTTP on a Unix socket; the Host header stays the URL's
                ? http.remoteAddress(() -> new DomainSocketAddress(unixSocket))
                        .headers(h -> h.set(HttpHeaderNames.HOST, uri.getHost() + ":" + port()))
                : http.host(uri.getHost()).port(port());
        http = http
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
                // bodies arrive in up to 1 MiB per read (Netty's default stops at 64 KiB): a
                // streamed download then hands far fewer pieces from the event loop to its reader
                .option(ChannelOption.RCVBUF_ALLOCATOR, new AdaptiveRecvByteBufAllocator(4096, 64 << 10, 1 << 20))
                // and leave the decoder whole: its default cuts bodies into 8 KiB pieces, each
                // one a trip through the pipeline and the reader (262,144 per GiB)
                .httpResponseDecoder(spec -> spec.maxChunkSize(ImageioClient.BODY_PIECE))
                .responseTimeout(RESPONSE_TIMEOUT)
                .keepAlive(true);
        return ssl != null ? http.secure(s -> s.sslContext(ssl)) : http;
    }

    /** True when {@code channel} joins two addresses of one host (as ovirt-imageio decides "local"). */
    static boolean sameHost(Channel channel) {
        return channel.localAddress() instanceof InetSocketAddress l
                && channel.remoteAddress() instanceof InetSocketAddress r
                && l.getAddress() != null && l.getAddress().equals(r.getAddress());
    }
}
