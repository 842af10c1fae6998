package io.extentflow.engine.imageio;

import java.nio.file.Path;

/**
 * How an {@link ImageioClient} connects and retries. Immutable; start from {@link #defaults()}.
 *
 * @param caFile      CA certificates (PEM) to trust for {@code https}, or null for the system's
 * @param insecure    do not verify {@code https} certificates
 * @param connections keep-alive connections at most (a transfer asks for fewer when the server allows fewer)
 * @param retries     attempts after the first for a request that failed transiently (reset or refused
 *                    connection, timeout, 5xx); the backoff starts at 0.1 s and doubles up to 2 s, so N
 *                    retries wait about 2N seconds at most for a server to come back
 */
public record ImageioClientOptions(Path caFile, boolean insecure, int connections, int retries) {

    /** Connections to an imageio server unless told otherwise (and as many as it allows). */
    public static final int DEFAULT_CONNECTIONS = 4;
    /** About 1.5 s of retrying (0.1 + 0.2 + 0.4 + 0.8 s, with jitter). */
    public static final int DEFAULT_RETRIES = 4;

    /** Checks the limits. */
    public ImageioClientOptions {
        if (connections <= 0) {
            throw new IllegalArgumentException("connections must be positive, got " + connections);
        }
        if (retries < 0) {
            throw new IllegalArgumentException("retries must not be negative, got " + retries);
        }
    }

    /** System CAs, verified TLS, {@value #DEFAULT_CONNECTIONS} connections, {@value #DEFAULT_RETRIES} retries. */
    public static ImageioClientOptions defaults() {
        return new ImageioClientOptions(null, false, DEFAULT_CONNECTIONS, DEFAULT_RETRIES);
    }

    /** These options trusting the CA certificates in {@code file} (null: the system's). */
    public ImageioClientOptions withCaFile(Path file) {
        return new ImageioClientOptions(file, insecure, connections, retries);
    }

    /** These options with certificates verified or not. */
    public ImageioClientOptions withInsecure(boolean value) {
        return new ImageioClientOptions(caFile, value, connections, retries);
    }

    /** These options with {@code n} connections at most. */
    public ImageioClientOptions withConnections(int n) {
        return new ImageioClientOptions(caFile, insecure, n, retries);
    }

    /** These options with {@code n} retries of a transient failure. */
    public ImageioClientOptions withRetries(int n) {
        return new ImageioClientOptions(caFile, insecure, connections, n);
    }
}
