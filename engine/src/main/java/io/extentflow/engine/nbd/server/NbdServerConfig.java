package io.extentflow.engine.nbd.server;

import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Where and how an {@link NbdServer} listens. Immutable; change it with the {@code with...} methods.
 *
 * @param socket           Unix socket to listen on, or null for TCP
 * @param host             TCP address to bind (ignored with a socket)
 * @param port             TCP port, 0 for any free one (ignored with a socket)
 * @param tlsCert          PEM certificate chain: the server then requires TLS ({@code NBD_OPT_STARTTLS})
 * @param tlsKey           PEM private key (PKCS#8) of the certificate
 * @param maxConnections   connections served at once; more are closed at once
 * @param handshakeTimeout how long a client may take to reach the transmission phase
 * @param idleTimeout      how long a connection may stay without a request in flight or arriving
 * @param bufferMemory     bytes of payload and reply data in flight, for all connections together
 */
public record NbdServerConfig(@Nullable Path socket, String host, int port, @Nullable Path tlsCert,
                              @Nullable Path tlsKey, int maxConnections, Duration handshakeTimeout,
                              Duration idleTimeout, long bufferMemory) {

    /** The IANA port of NBD. */
    public static final int DEFAULT_PORT = 10809;

    public NbdServerConfig {
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("a TLS certificate needs its key and a key its certificate");
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("connections must be at least 1, not " + maxConnections);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not a TCP port");
        }
        if (bufferMemory < NbdExport.MAX_PAYLOAD) {
            throw new IllegalArgumentException("buffer memory must hold one largest request ("
                    + NbdExport.MAX_PAYLOAD + " bytes), not " + bufferMemory);
        }
    }

    /** Loopback port 10809, no TLS, 8 connections, 30 s handshakes, 10 min idle, 64 MiB in flight. */
    public static NbdServerConfig defaults() {
        return new NbdServerConfig(null, "127.0.0.1", DEFAULT_PORT, null, null, 8, Duration.ofSeconds(30),
                Duration.ofMinutes(10), 64L << 20);
    }

    /** True when TLS is configured (and so required). */
    public boolean tls() {
        return tlsCert != null;
    }

    /** The same configuration listening on a Unix socket. */
    public NbdServerConfig withSocket(Path value) {
        return new NbdServerConfig(value, host, port, tlsCert, tlsKey, maxConnections, handshakeTimeout,
                idleTimeout, bufferMemory);
    }

    /** The same configuration listening on TCP {@code host:port}. */
    public NbdServerConfig withTcp(String newHost, int newPort) {
        return new NbdServerConfig(null, newHost, newPort, tlsCert, tlsKey, maxConnections, handshakeTimeout,
                idleTimeout, bufferMemory);
    }

    /** The same configuration requiring TLS with this certificate and key. */
    public NbdServerConfig withTls(Path cert, Path key) {
        return new NbdServerConfig(socket, host, port, cert, key, maxConnections, handshakeTimeout, idleTimeout,
                bufferMemory);
    }

    /** The same configuration with another connection bound. */
    public NbdServerConfig withMaxConnections(int value) {
        return new NbdServerConfig(socket, host, port, tlsCert, tlsKey, value, handshakeTimeout, idleTimeout,
                bufferMemory);
    }

    /** The same configuration with other timeouts. */
    public NbdServerConfig withTimeouts(Duration handshake, Duration idle) {
        return new NbdServerConfig(socket, host, port, tlsCert, tlsKey, maxConnections, handshake, idle,
                bufferMemory);
    }

    /** The same configuration with another bound on bytes in flight. */
    public NbdServerConfig withBufferMemory(long value) {
        return new NbdServerConfig(socket, host, port, tlsCert, tlsKey, maxConnections, handshakeTimeout,
                idleTimeout, value);
    }
}
