package io.extentflow.engine.endpoint;

import java.nio.file.Path;

/**
 * Settings for opening endpoints that only some kinds use. Immutable; start from {@link #defaults()}.
 *
 * @param topLayerOnly expose only an image's top layer: ranges it leaves to its backing chain become
 *                     holes without {@code zero} (for copying an overlay alone)
 * @param caFile       CA certificates (PEM) to trust for {@code https} endpoints, or null for the system's
 * @param insecure     do not verify {@code https} certificates
 * @param connections  connections to open where the endpoint allows several (NBD multi-conn, HTTP)
 * @param httpStream   move an imageio HTTP image as one sparse stream in a single request
 *                     ({@code ?format=sparse}) when the server offers it, instead of one request per extent
 */
public record EndpointOptions(boolean topLayerOnly, Path caFile, boolean insecure, int connections,
                              boolean httpStream) {

    public static final int DEFAULT_CONNECTIONS = 4;

    public EndpointOptions {
        if (connections <= 0) {
            throw new IllegalArgumentException("connections must be positive, got " + connections);
        }
    }

    /** Whole chains, system CAs, verified TLS, up to {@value #DEFAULT_CONNECTIONS} connections. */
    public static EndpointOptions defaults() {
        return new EndpointOptions(false, null, false, DEFAULT_CONNECTIONS, false);
    }

    public EndpointOptions withTopLayerOnly(boolean value) {
        return new EndpointOptions(value, caFile, insecure, connections, httpStream);
    }

    public EndpointOptions withCaFile(Path value) {
        return new EndpointOptions(topLayerOnly, value, insecure, connections, httpStream);
    }

    public EndpointOptions withInsecure(boolean value) {
        return new EndpointOptions(topLayerOnly, caFile, value, connections, httpStream);
    }

    public EndpointOptions withConnections(int value) {
        return new EndpointOptions(topLayerOnly, caFile, insecure, value, httpStream);
    }

    public EndpointOptions withHttpStream(boolean value) {
        return new EndpointOptions(topLayerOnly, caFile, insecure, connections, value);
    }
}
