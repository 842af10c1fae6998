package io.extentflow.engine.nbd.server;

import io.extentflow.engine.io.BlockingIo;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocatorMetric;
import io.netty.channel.ChannelOption;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.DisposableServer;
import reactor.netty.NettyPipeline;
import reactor.netty.tcp.TcpServer;

/**
 * An NBD server for one {@link NbdExport}, on Reactor Netty (TCP or a Unix socket): fixed newstyle
 * handshake ({@link Handshake}), then concurrent requests per connection ({@link RequestHandler}),
 * memory bounded by {@link NbdServerConfig#bufferMemory()} for all connections together.
 *
 * <pre>{@code
 * NbdServer server = NbdServer.start(NbdServerConfig.defaults().withSocket(socket),
 *         new NbdExport("", "", source, null, true)).block();
 * ...
 * server.shutdown(Duration.ofSeconds(10)).block();
 * }</pre>
 *
 * <p>Nothing blocks an event loop: source and sink calls are non-blocking, and the TLS files are read
 * on the file I/O scheduler at start. Connections beyond {@link NbdServerConfig#maxConnections()} are
 * closed at once; handshakes and idle connections time out.
 */
public final class NbdServer {

    private static final Logger LOG = Logger.getLogger(NbdServer.class.getName());
    /** Bytes of the socket's send buffer (the kernel caps it at net.core.wmem_max). */
    private static final int SEND_BUFFER = 2 << 20;

    private final NbdServerConfig config;
    private final DisposableServer server;
    private final Set<Connection> connections;
    private final Set<NbdSession> sessions;
    private final ByteBudget budget;
    private final DataBuffers buffers;
    private final PooledByteBufAllocator connectionMemory;

    private NbdServer(NbdServerConfig config, DisposableServer server, Set<Connection> connections,
                      Set<NbdSession> sessions, ByteBudget budget, DataBuffers buffers,
                      PooledByteBufAllocator connectionMemory) {
        this.connectionMemory = connectionMemory;
        this.budget = budget;
        this.buffers = buffers;
        this.config = config;
        this.server = server;
        this.connections = connections;
        this.sessions = sessions;
    }

    /** Binds and starts serving {@code export}. A stale socket file is replaced. */
    public static Mono<NbdServer> start(NbdServerConfig config, NbdExport export) {
        Mono<@Nullable SslContext> tls = config.tls()
                ? BlockingIo.call(() -> SslContextBuilder.forServer(config.tlsCert().toFile(),
                        config.tlsKey().toFile()).build())
                : Mono.empty();
        Mono<Void> clearSocket = config.socket() == null ? Mono.empty()
                : BlockingIo.run(() -> Files.deleteIfExists(config.socket()));
        return clearSocket.then(tls.map(Optional::of).defaultIfEmpty(Optional.empty()))
                .flatMap(ssl -> bind(config, export, ssl.orElse(null)));
    }

    private static Mono<NbdServer> bind(NbdServerConfig config, NbdExport export, @Nullable SslContext tls) {
        ByteBudget budget = new ByteBudget(config.bufferMemory());
        DataBuffers buffers = new DataBuffers(config.bufferMemory(), ByteBufAllocator.DEFAULT);
        Set<Connection> connections = ConcurrentHashMap.newKeySet();
        Set<NbdSession> sessions = ConcurrentHashMap.newKeySet();
        AtomicInteger open = new AtomicInteger();
        PooledByteBufAllocator memory = ConnectionMemory.allocator();
        TcpServer tcp = TcpServer.create()
                // receive buffers and headers from a pool of the server's own (ConnectionMemory)
                .childOption(ChannelOption.ALLOCATOR, memory)
                // room for a whole 256 KiB READ reply and more (the default is 208 KiB): each reply
                // then leaves in one writev, not in parts with a wait for the socket between them
                .childOption(ChannelOption.SO_SNDBUF, SEND_BUFFER)
                .doOnChannelInit((observer, channel, remote) -> {
                    if (open.incrementAndGet() > config.maxConnections()) {
                        open.decrementAndGet();
                        LOG.info(() -> remote + ": refused, " + config.maxConnections() + " connections are open");
                        channel.close();
                        return;
                    }
                    channel.closeFuture().addListener(f -> open.decrementAndGet());
                    ClientMessageDecoder decoder = new ClientMessageDecoder(export.maxPayload());
                    NbdSession session = new NbdSession(export, tls, budget, buffers, decoder, config.handshakeTimeout(),
                            String.valueOf(remote));
                    long idle = config.idleTimeout().toMillis();
                    // before Reactor Netty's bridge: the session consumes every message itself
                    channel.pipeline()
                            .addBefore(NettyPipeline.ReactiveBridge, "nbd-idle",
                                    new IdleStateHandler(idle, 0, 0, TimeUnit.MILLISECONDS))
                            .addBefore(NettyPipeline.ReactiveBridge, "nbd-decoder", decoder)
                            .addBefore(NettyPipeline.ReactiveBridge, "nbd-session", session);
                })
                .doOnConnection(conn -> {
                    if (!(conn.channel().pipeline().get("nbd-session") instanceof NbdSession session)) {
                        return; // refused
                    }
                    connections.add(conn);
                    sessions.add(session);
                    conn.onDispose(() -> {
                        connections.remove(conn);
                        sessions.remove(session);
                    });
                })
                .handle((in, out) -> Mono.never());
        if (config.socket() != null) {
            tcp = tcp.bindAddress(() -> new DomainSocketAddress(config.socket().toString()));
        } else {
            tcp = tcp.host(config.host()).port(config.port());
        }
        return tcp.bind().map(server -> new NbdServer(config, server, connections, sessions, budget, buffers, memory));
    }

    /** Where the server listens. */
    public SocketAddress address() {
        return server.address();
    }

    /** The TCP port (for a server started on port 0), or -1 on a Unix socket. */
    public int port() {
        return server.address() instanceof InetSocketAddress a ? a.getPort() : -1;
    }

    /** The URI of the export, e.g. {@code nbd+unix:///?socket=/run/a.sock} or {@code nbds://127.0.0.1:10809/}. */
    public String uri(String exportName) {
        String scheme = config.tls() ? "nbds" : "nbd";
        if (config.socket() != null) {
            return scheme + "+unix:///" + exportName + "?socket=" + config.socket();
        }
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return scheme + "://" + host + ":" + port() + "/" + exportName;
    }

    /** Bytes of request data held now, by all connections (0 when nothing runs). */
    public long bytesInFlight() {
        return budget.inUse();
    }

    /**
     * Bytes of the server's data buffers handed out now (READ replies being read or written, WRITE
     * payloads being written): 0 when nothing runs, whatever the clients did before.
     */
    public long bufferBytesHeld() {
        return buffers.inUse();
    }

    /** The pool the connections' sockets are read into ({@link ConnectionMemory}); for tests. */
    PooledByteBufAllocatorMetric connectionMemory() {
        return connectionMemory.metric();
    }

    /** Connections open now. */
    public int connections() {
        return connections.size();
    }

    /**
     * Stops accepting, lets requests in flight finish (new ones get ESHUTDOWN) for at most
     * {@code grace}, then closes every connection; completes when they are closed and a Unix socket
     * file is removed.
     */
    public Mono<Void> shutdown(Duration grace) {
        return Mono.defer(() -> {
            server.dispose();
            sessions.forEach(NbdSession::shutdown);
            Mono<Void> closed = Flux.fromIterable(Set.copyOf(connections))
                    .flatMap(c -> c.onDispose())
                    .then();
            return closed.timeout(grace, Mono.fromRunnable(() -> connections.forEach(Connection::dispose)))
                    .then(server.onDispose())
                    .then(config.socket() == null ? Mono.empty()
                            : BlockingIo.run(() -> Files.deleteIfExists(config.socket())));
        });
    }
}
