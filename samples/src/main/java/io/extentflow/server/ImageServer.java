package io.extentflow.server;

import io.extentflow.engine.imageio.ImageioClient;
import io.extentflow.engine.imageio.Ticket;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Logger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * An ovirt-imageio compatible image server on Reactor Netty.
 *
 * <pre>{@code
 * ImageServer server = ImageServer.start(ServerConfig.defaults().withPort(0), registry, null).block();
 * // PUT a ticket on server.controlAddress(), then use server.imageUrl(ticketId)
 * server.close();
 * }</pre>
 *
 * <p>The data API listens on {@link ServerConfig#host()}:{@link ServerConfig#port()}, https when a
 * certificate is configured. Without TLS it binds the loopback address only, whatever the host
 * asked for, since tickets would otherwise travel in clear text: {@link #notice()} says so. The
 * control API listens on a Unix socket or on a loopback port and never on the network. {@code GET
 * /metrics} is served on the data port, or on a listener of its own with
 * {@link ServerConfig#metricsPort()}: loopback without TLS, {@code host} with the data API's
 * certificate with TLS.
 */
public final class ImageServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("io.extentflow.server");
    /** Reported by {@code GET /info/}. */
    public static final String VERSION = "extentflow-0.1";

    private final ServerConfig config;
    private final TicketStore tickets;
    private final ServerBuffers buffers;
    private final DisposableServer data;
    private final DisposableServer control;
    /** The metrics listener, or null when metrics are on the data port (or not served). */
    private final DisposableServer metricsListener;
    /** The data API on the local Unix socket, or null. */
    private final DisposableServer local;
    private final String notice;

    private ImageServer(ServerConfig config, TicketStore tickets, ServerBuffers buffers, DisposableServer data,
                        DisposableServer control, DisposableServer metricsListener, DisposableServer local,
                        String notice) {
        this.config = config;
        this.tickets = tickets;
        this.buffers = buffers;
        this.data = data;
        this.control = control;
        this.metricsListener = metricsListener;
        this.local = local;
        this.notice = notice;
    }

    /**
     * More routes on the data port, for paths the image server does not serve itself (the copy
     * daemon's jobs API and status page).
     */
    @FunctionalInterface
    public interface ExtraRoutes {
        /** Handles the request, or returns null when {@code path} is not one of its routes. */
        Mono<Void> handle(HttpServerRequest req, HttpServerResponse resp, String path);
    }

    /** Starts a server; {@code scrape} (may be null) serves {@code GET /metrics} in Prometheus text. */
    public static Mono<ImageServer> start(ServerConfig config, MeterRegistry registry, Supplier<String> scrape) {
        return start(config, registry, scrape, null);
    }

    /** Starts a server that also serves {@code extra} (may be null) on its data port. */
    public static Mono<ImageServer> start(ServerConfig config, MeterRegistry registry, Supplier<String> scrape,
                                          ExtraRoutes extra) {
        return start(config, registry, scrape, extra, List.of());
    }

    /**
     * Starts a server holding {@code initialTickets} before its data port accepts the first
     * connection (e.g. tickets restored after a restart, which clients retrying meanwhile find at
     * once). Fails if one of them is refused, as {@code PUT /tickets/<id>} would refuse it.
     */
    public static Mono<ImageServer> start(ServerConfig config, MeterRegistry registry, Supplier<String> scrape,
                                          ExtraRoutes extra, Collection<Ticket> initialTickets) {
        return Mono.defer(() -> {
            TicketStore tickets = new TicketStore(config);
            ServerBuffers buffers = new ServerBuffers(config);
            ServerMetrics metrics = new ServerMetrics(registry, buffers, tickets);
            ImagesHandler images = new ImagesHandler(tickets, buffers, metrics, new ChecksumHandler(tickets, buffers));
            TicketsHandler ticketsHandler = new TicketsHandler(tickets, config.removeTimeout());
            String host = config.tls() ? config.host() : "127.0.0.1";
            String notice = config.tls() ? "https on " + host
                    : "no TLS: listening on 127.0.0.1 only" + (isLoopback(config.host()) ? ""
                    : " (not " + config.host() + "; configure --tls-cert and --tls-key to serve the network)");
            boolean ownMetricsPort = config.metricsPort() != ServerConfig.METRICS_ON_DATA_PORT && scrape != null;
            Supplier<String> dataScrape = ownMetricsPort ? null : scrape;
            HttpServer dataServer = secured(config, dataApi()
                    .host(host)
                    .port(config.port())
                    .idleTimeout(config.idleTimeout())
                    .handle((req, resp) -> dispatchData(req, resp, tickets, images, metrics, dataScrape, extra)));
            HttpServer controlServer = HttpServer.create()
                    .handle((req, resp) -> dispatchControl(req, resp, ticketsHandler));
            if (config.controlSocket() != null) {
                controlServer = controlServer.bindAddress(() -> new DomainSocketAddress(
                        config.controlSocket().toString()));
            } else {
                controlServer = controlServer.host("127.0.0.1").port(config.controlPort());
            }
            Mono<DisposableServer> metricsBind = !ownMetricsPort ? Mono.empty()
                    : secured(config, HttpServer.create()
                            .host(host)
                            .port(config.metricsPort())
                            .handle((req, resp) -> dispatchMetrics(req, resp, scrape))).bind()
                            .map(DisposableServer.class::cast);
            // the local service: the same data API on a Unix socket, plain HTTP as in ovirt-imageio
            // (the socket file's permissions guard it; tickets still authorize every request)
            Mono<DisposableServer> localBind = config.localSocket() == null ? Mono.empty()
                    : dataApi()
                            .bindAddress(() -> new DomainSocketAddress(config.localSocket().toString()))
                            .idleTimeout(config.idleTimeout())
                            .handle((req, resp) -> dispatchData(req, resp, tickets, images, metrics, dataScrape, extra))
                            .bind()
                            .map(DisposableServer.class::cast);
            Mono<Void> clearSocket = io.extentflow.engine.io.BlockingIo.run(() -> {
                if (config.controlSocket() != null) {
                    Files.deleteIfExists(config.controlSocket());
                }
                if (config.localSocket() != null) {
                    Files.deleteIfExists(config.localSocket());
                }
            });
            Mono<Void> loadTickets = Flux.fromIterable(initialTickets).concatMap(tickets::add).then();
            HttpServer ds = dataServer;
            HttpServer cs = controlServer;
            return clearSocket.then(loadTickets).then(ds.bind()).flatMap(d -> cs.bind()
                    .flatMap(c -> metricsBind
                            .map(java.util.Optional::of)
                            .defaultIfEmpty(java.util.Optional.empty())
                            .flatMap(m -> localBind
                                    .map(java.util.Optional::of)
                                    .defaultIfEmpty(java.util.Optional.empty())
                                    .doOnError(e -> m.ifPresent(DisposableServer::dispose))
                                    .map(l -> {
                                        LOG.info("image server: data API on " + d.address() + " (" + notice
                                                + ")" + l.map(x -> " and " + x.address() + " (local)").orElse("")
                                                + ", control API on " + c.address()
                                                + m.map(x -> ", metrics on " + x.address()).orElse(""));
                                        return new ImageServer(config, tickets, buffers, d, c, m.orElse(null),
                                                l.orElse(null), notice);
                                    }))
                            .doOnError(e -> c.dispose()))
                    .doOnError(e -> d.dispose()))
                    .doOnError(e -> tickets.removeAll().subscribe());
        });
    }

    /** A listener of the data API: its connections are closed when the server stops, idle keep-alive ones included. */
    private static HttpServer dataApi() {
        return HttpServer.create().channelGroup(new io.netty.channel.group.DefaultChannelGroup(
                        io.netty.util.concurrent.GlobalEventExecutor.INSTANCE))
                // upload bodies in pieces as large as a socket read, not the decoder's default 8 KiB
                .httpRequestDecoder(spec -> spec.maxChunkSize(ImageioClient.BODY_PIECE))
                // an unreadable request: one reply line and one log line, not Reactor Netty's dump of it
                .doOnChannelInit((observer, channel, address) -> {
                    if (channel.pipeline().get(reactor.netty.NettyPipeline.HttpCodec) != null) {
                        channel.pipeline().addAfter(reactor.netty.NettyPipeline.HttpCodec, UndecodableRequests.NAME,
                                new UndecodableRequests());
                    }
                });
    }

    /** {@code server} with https when the configuration has a certificate. */
    private static HttpServer secured(ServerConfig config, HttpServer server) {
        if (!config.tls()) {
            return server;
        }
        Http11SslContextSpec spec = Http11SslContextSpec.forServer(config.tlsCert().toFile(), config.tlsKey().toFile());
        return server.secure(s -> s.sslContext((reactor.netty.tcp.SslProvider.GenericSslContextSpec<?>) spec));
    }

    private static boolean isLoopback(String host) {
        return host.equals("127.0.0.1") || host.equals("localhost") || host.equals("::1");
    }

    private static Mono<Void> dispatchData(HttpServerRequest req, HttpServerResponse resp, TicketStore tickets,
                                           ImagesHandler images, ServerMetrics metrics, Supplier<String> scrape,
                                           ExtraRoutes extra) {
        long started = System.nanoTime();
        String[] route = {"other"};
        return Mono.defer(() -> {
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            String path = q.path();
            route[0] = ServerMetrics.route(path);
            Map<String, List<String>> query = q.parameters();
            if (path.startsWith("/images/")) {
                return images.handle(req, resp, path, path.substring("/images/".length()), query);
            }
            if (path.equals("/info/") || path.equals("/info")) {
                requireGet(req, path);
                return Replies.json(resp, Map.of("version", VERSION));
            }
            if (path.equals("/metrics") && scrape != null) {
                return metricsReply(req, resp, path, scrape);
            }
            Mono<Void> routed = extra == null ? null : extra.handle(req, resp, path);
            if (routed != null) {
                return routed;
            }
            throw ApiError.notFound("No handler for '" + path + "'");
        }).onErrorResume(t -> drain(req).then(Replies.error(resp, whileStopping(tickets, t))))
                .doFinally(s -> metrics.request(route[0], req.method().name(), resp.status().code(),
                        System.nanoTime() - started));
    }

    /** A request refused because its ticket was canceled by the stopping server gets the stopping 503 instead. */
    private static Throwable whileStopping(TicketStore tickets, Throwable t) {
        return tickets.stopping() && t instanceof ApiError e && e.status == 403 ? TicketStore.stoppingError() : t;
    }

    /** The metrics listener: {@code GET /metrics} and nothing else. */
    private static Mono<Void> dispatchMetrics(HttpServerRequest req, HttpServerResponse resp, Supplier<String> scrape) {
        return Mono.defer(() -> {
            String path = new QueryStringDecoder(req.uri()).path();
            if (!path.equals("/metrics")) {
                throw ApiError.notFound("No handler for '" + path + "'");
            }
            return metricsReply(req, resp, path, scrape);
        }).onErrorResume(t -> drain(req).then(Replies.error(resp, t)));
    }

    private static Mono<Void> metricsReply(HttpServerRequest req, HttpServerResponse resp, String path,
                                           Supplier<String> scrape) {
        requireGet(req, path);
        byte[] text = scrape.get().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return resp.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                .header("Content-Length", Integer.toString(text.length))
                .send(Mono.fromSupplier(() -> io.netty.buffer.Unpooled.wrappedBuffer(text))).then();
    }

    private static Mono<Void> dispatchControl(HttpServerRequest req, HttpServerResponse resp, TicketsHandler handler) {
        return Mono.defer(() -> {
            String path = new QueryStringDecoder(req.uri()).path();
            if (path.startsWith("/tickets/")) {
                return handler.handle(req, resp, path, path.substring("/tickets/".length()));
            }
            if (path.equals("/tickets")) {
                return handler.handle(req, resp, path, "");
            }
            throw ApiError.notFound("No handler for '" + path + "'");
        }).onErrorResume(t -> drain(req).then(Replies.error(resp, t)));
    }

    /** At most this much of a refused request's body is read before the error reply. */
    private static final long DRAIN_LIMIT = 1 << 20;

    /**
     * Reads and drops what is left of a refused request's body (at most {@link #DRAIN_LIMIT} bytes,
     * for at most a second). Closing a socket with unread bytes makes the kernel send a reset, which
     * can destroy the error reply before the client reads it. A body already being read (the error
     * came mid-upload) is left alone.
     */
    private static Mono<Void> drain(HttpServerRequest req) {
        long[] seen = {0};
        return req.receive()
                .takeWhile(b -> (seen[0] += b.readableBytes()) <= DRAIN_LIMIT)
                .then()
                .timeout(Duration.ofSeconds(1))
                .onErrorResume(e -> Mono.empty());
    }

    private static void requireGet(HttpServerRequest req, String path) {
        if (!req.method().name().equals("GET")) {
            throw ApiError.methodNotAllowed(req.method().name(), path);
        }
    }

    /** The port of the data API. */
    public int port() {
        return ((InetSocketAddress) data.address()).getPort();
    }

    /** The port of the metrics listener, or -1 when {@code /metrics} is served on the data port (or not at all). */
    public int metricsPort() {
        return metricsListener == null ? -1 : ((InetSocketAddress) metricsListener.address()).getPort();
    }

    /** {@code http(s)://<host>:<port>/metrics}: where the metrics are served when the server has a scrape. */
    public String metricsUrl() {
        int p = metricsListener != null ? metricsPort() : port();
        return (config.tls() ? "https" : "http") + "://" + (config.tls() ? config.host() : "127.0.0.1") + ":" + p
                + "/metrics";
    }

    /** The address of the control API: a {@code DomainSocketAddress} or a loopback {@code InetSocketAddress}. */
    public SocketAddress controlAddress() {
        return control.address();
    }

    /** {@code http(s)://127.0.0.1:<port>/images/<ticket>}. */
    public String imageUrl(String ticket) {
        return (config.tls() ? "https" : "http") + "://" + (config.tls() ? config.host() : "127.0.0.1") + ":" + port()
                + "/images/" + ticket;
    }

    /** One line about what is listening where, e.g. that without TLS only loopback is served. */
    public String notice() {
        return notice;
    }

    /** The tickets, for embedding applications (the control API is the usual way). */
    public TicketStore tickets() {
        return tickets;
    }

    /** Data buffers currently held by requests (0 when idle: nothing leaked). */
    public int buffersInUse() {
        return buffers.outstanding();
    }

    /**
     * Stops accepting requests, cancels every ticket, and waits up to {@code grace} for running
     * operations to stop; then closes the listeners.
     */
    public Mono<Void> shutdown(Duration grace) {
        return Mono.defer(() -> {
            tickets.stopServing();
            control.dispose();
            if (metricsListener != null) {
                metricsListener.dispose();
            }
            return tickets.removeAll().timeout(grace).onErrorResume(e -> Mono.empty())
                    .then(Mono.fromRunnable(() -> {
                        if (local != null) {
                            local.disposeNow(grace);
                        }
                        data.disposeNow(grace);
                    }).subscribeOn(
                            reactor.core.scheduler.Schedulers.boundedElastic()).then());
        });
    }

    /** Stops at once. */
    @Override
    public void close() {
        tickets.stopServing();
        control.disposeNow();
        if (metricsListener != null) {
            metricsListener.disposeNow();
        }
        tickets.removeAll().subscribe();
        if (local != null) {
            local.disposeNow();
        }
        data.disposeNow();
    }
}
