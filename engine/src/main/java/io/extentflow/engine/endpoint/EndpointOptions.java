package io.extentflow.engine.endpoint;

import java.nio.file.Path;

/**
 * Settings for opening endpoints that only some kinds use. Immutable; start from {@link #defaults()}.
 *
 * @param topLayerOnly   expose only an image's top layer: ranges it leaves to its backing chain become
 *                       holes without {@code zero} (for copying an overlay alone)
 * @param caFile         CA certificates (PEM) to trust for {@code https} endpoints, or null for the system's
 * @param insecure       do not verify {@code https} certificates
 * @param connections    connections to open where the endpoint allows several (NBD multi-conn, HTTP), or
 *                       {@link #KIND_DEFAULT} for each kind's own default: {@link #connectionsOr(int)}
 * @param httpStream     move an imageio HTTP image as one sparse stream in a single request
 *                       ({@code ?format=sparse}) when the server offers it, instead of one request per extent
 * @param retries        attempts after the first for an HTTP request that failed transiently (reset or
 *                       refused connection, timeout, 5xx); the backoff starts at 0.1 s and doubles up to
 *                       2 s, so N retries wait about 2N seconds at most for a server to come back
 * @param allocateZeroes a sink's zero requests leave the range allocated (file: {@code ZERO_RANGE};
 *                       NBD: {@code WRITE_ZEROES} with {@code NO_HOLE}) instead of punching a hole,
 *                       as ovirt-imageio does for tickets with {@code "sparse": false}
 * @param keepCache      a file sink writes through the page cache and leaves what it wrote there, instead of
 *                       bypassing the cache where it can (direct I/O) and otherwise writing back to disk as
 *                       it goes and dropping from the cache (the default: a copy's target is not read back,
 *                       and caching it pushes out what the machine was using)
 */
public record EndpointOptions(boolean topLayerOnly, Path caFile, boolean insecure, int connections,
                              boolean httpStream, int retries, boolean allocateZeroes,
                              boolean keepCache) {

    /** {@code connections} that let each kind of endpoint choose (NBD: one per CPU up to 4; HTTP: 4). */
    public static final int KIND_DEFAULT = 0;
    /** Connections to an imageio HTTP server unless told otherwise (and as many as it allows). */
    public static final int DEFAULT_HTTP_CONNECTIONS = 4;
    /** About 1.5 s of retrying (0.1 + 0.2 + 0.4 + 0.8 s, with jitter). */
    public static final int DEFAULT_RETRIES = 4;

    public EndpointOptions {
        if (connections < 0) {
            throw new IllegalArgumentException("connections must be positive (or KIND_DEFAULT), got " + connections);
        }
        if (retries < 0) {
            throw new IllegalArgumentException("retries must not be negative, got " + retries);
        }
    }

    /**
     * Whole chains, system CAs, verified TLS, each kind's default number of connections,
     * {@value #DEFAULT_RETRIES} retries, zeroing deallocates, written files leave the page cache.
     */
    public static EndpointOptions defaults() {
        return new EndpointOptions(false, null, false, KIND_DEFAULT, false, DEFAULT_RETRIES, false, false);
    }

    /** The connections asked for, or {@code kindDefault} when the endpoint's kind may choose. */
    public int connectionsOr(int kindDefault) {
        return connections == KIND_DEFAULT ? kindDefault : connections;
    }

    public EndpointOptions withTopLayerOnly(boolean value) {
        return new EndpointOptions(value, caFile, insecure, connections, httpStream,
                retries, allocateZeroes, keepCache);
    }

    public EndpointOptions withCaFile(Path value) {
        return new EndpointOptions(topLayerOnly, value, insecure, connections, httpStream,
                retries, allocateZeroes, keepCache);
    }

    public EndpointOptions withInsecure(boolean value) {
        return new EndpointOptions(topLayerOnly, caFile, value, connections, httpStream,
                retries, allocateZeroes, keepCache);
    }

    public EndpointOptions withConnections(int value) {
        return new EndpointOptions(topLayerOnly, caFile, insecure, value, httpStream,
                retries, allocateZeroes, keepCache);
    }

    public EndpointOptions withHttpStream(boolean value) {
        return new EndpointOptions(topLayerOnly, caFile, insecure, connections, value,
                retries, allocateZeroes, keepCache);
    }

    public EndpointOptions withRetries(int value) {
        return new EndpointOptions(topLayerOnly, caFile, insecure, connections, httpStream,
                value, allocateZeroes, keepCache);
    }

    public EndpointOptions withAllocateZeroes(boolean value) {
        return new EndpointOptions(topLayerOnly, caFile, insecure, connections, httpStream, retries, value, keepCache);
    }

    public EndpointOptions withKeepCache(boolean value) {
        return new EndpointOptions(topLayerOnly, caFile, insecure, connections, httpStream, retries, allocateZeroes,
                value);
    }
}
