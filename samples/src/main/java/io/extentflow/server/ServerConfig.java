package io.extentflow.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * How the image daemon runs. Immutable; start from {@link #defaults()}.
 *
 * @param host             address of the data API; without TLS only loopback is ever bound
 * @param port             port of the data API, 0 for an ephemeral port
 * @param controlSocket    Unix socket of the control API, or null for a loopback TCP port
 * @param controlPort      loopback port of the control API when there is no socket, 0 for ephemeral
 * @param tlsCert          PEM certificate chain for https, or null for plain http
 * @param tlsKey           PEM private key (PKCS#8) for https
 * @param maxReaders       requests read in parallel per ticket (announced as {@code max_readers})
 * @param maxWriters       requests written in parallel per ticket (announced as {@code max_writers})
 * @param chunkSize        bytes per buffer moved between the socket and the image
 * @param bufferMemory     bytes of buffers of the whole server; bounds its data memory
 * @param buffersPerRequest buffers one download or upload may hold at once
 * @param idleTimeout      a keep-alive connection with no request for this long is closed
 * @param removeTimeout    how long {@code DELETE /tickets/<id>} waits for operations to stop
 * @param metricsPort      port of a listener serving only {@code GET /metrics} (0 for ephemeral), or
 *                         {@link #METRICS_ON_DATA_PORT}; it binds loopback, or {@code host} with the
 *                         data API's certificate when TLS is configured
 * @param localSocket      Unix socket serving the data API to clients on this host (plain HTTP, like
 *                         ovirt-imageio's local service), announced in {@code OPTIONS} as
 *                         {@code unix_socket}; null for none
 */
public record ServerConfig(String host, int port, Path controlSocket, int controlPort, Path tlsCert, Path tlsKey,
                           int maxReaders, int maxWriters, int chunkSize, long bufferMemory, int buffersPerRequest,
                           Duration idleTimeout, Duration removeTimeout, int metricsPort,
                           Path localSocket) {

    /** ovirt-imageio's remote port. */
    public static final int DEFAULT_PORT = 54322;
    /** {@link #metricsPort()} value: {@code GET /metrics} is served on the data port. */
    public static final int METRICS_ON_DATA_PORT = -1;

    public ServerConfig {
        if (maxReaders <= 0 || maxWriters <= 0 || chunkSize <= 0 || buffersPerRequest <= 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
        if (bufferMemory < (long) chunkSize * buffersPerRequest) {
            throw new IllegalArgumentException("buffer memory must hold at least one request's buffers");
        }
        if (metricsPort < METRICS_ON_DATA_PORT) {
            throw new IllegalArgumentException("invalid metrics port " + metricsPort);
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("TLS needs both a certificate and a key");
        }
    }

    /** Loopback, port 54322, control on an ephemeral loopback port, 8 readers and writers, 64 MiB of 1 MiB buffers. */
    public static ServerConfig defaults() {
        return new ServerConfig("127.0.0.1", DEFAULT_PORT, null, 0, null, null, 8, 8, 1 << 20, 64L << 20, 4,
                Duration.ofSeconds(60), Duration.ofSeconds(60), METRICS_ON_DATA_PORT, null);
    }

    /** True when the data API speaks https. */
    public boolean tls() {
        return tlsCert != null;
    }

    public ServerConfig withHost(String value) {
        return with(b -> b.host = value);
    }

    public ServerConfig withPort(int value) {
        return with(b -> b.port = value);
    }

    public ServerConfig withControlSocket(Path value) {
        return with(b -> b.controlSocket = value);
    }

    public ServerConfig withControlPort(int value) {
        return with(b -> b.controlPort = value);
    }

    public ServerConfig withTls(Path cert, Path key) {
        return with(b -> {
            b.tlsCert = cert;
            b.tlsKey = key;
        });
    }

    public ServerConfig withLimits(int readers, int writers) {
        return with(b -> {
            b.maxReaders = readers;
            b.maxWriters = writers;
        });
    }

    public ServerConfig withBuffers(int size, long memory, int perRequest) {
        return with(b -> {
            b.chunkSize = size;
            b.bufferMemory = memory;
            b.buffersPerRequest = perRequest;
        });
    }

    public ServerConfig withTimeouts(Duration idle, Duration remove) {
        return with(b -> {
            b.idleTimeout = idle;
            b.removeTimeout = remove;
        });
    }

    /** Also serves the data API on the Unix socket {@code path} for local clients (null: no local service). */
    public ServerConfig withLocalSocket(Path path) {
        return with(b -> b.localSocket = path);
    }

    /** Serves {@code GET /metrics} on its own listener at {@code port} (0 for ephemeral) instead of the data port. */
    public ServerConfig withMetricsPort(int port) {
        return with(b -> b.metricsPort = port);
    }

    /**
     * A copy of this config with {@code change} made to it, checked as a whole: each wither names only
     * what it changes, and a new field is one line here and in {@link Fields}, not a new argument in
     * every wither.
     */
    private ServerConfig with(Consumer<Fields> change) {
        Fields f = new Fields(this);
        change.accept(f);
        return f.build();
    }

    /** The fields of a config while one is being changed (never seen outside this class). */
    private static final class Fields {
        String host;
        int port;
        Path controlSocket;
        int controlPort;
        Path tlsCert;
        Path tlsKey;
        int maxReaders;
        int maxWriters;
        int chunkSize;
        long bufferMemory;
        int buffersPerRequest;
        Duration idleTimeout;
        Duration removeTimeout;
        int metricsPort;
        Path localSocket;

        Fields(ServerConfig c) {
            host = c.host;
            port = c.port;
            controlSocket = c.controlSocket;
            controlPort = c.controlPort;
            tlsCert = c.tlsCert;
            tlsKey = c.tlsKey;
            maxReaders = c.maxReaders;
            maxWriters = c.maxWriters;
            chunkSize = c.chunkSize;
            bufferMemory = c.bufferMemory;
            buffersPerRequest = c.buffersPerRequest;
            idleTimeout = c.idleTimeout;
            removeTimeout = c.removeTimeout;
            metricsPort = c.metricsPort;
            localSocket = c.localSocket;
        }

        ServerConfig build() {
            return new ServerConfig(host, port, controlSocket, controlPort, tlsCert, tlsKey, maxReaders, maxWriters,
                    chunkSize, bufferMemory, buffersPerRequest, idleTimeout, removeTimeout, metricsPort, localSocket);
        }
    }
}
