package io.extentflow.cli;

import io.extentflow.engine.endpoint.EndpointOptions;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The flags every command that opens addresses shares; they become the engine's {@link EndpointOptions}. */
final class EndpointFlags {

    @Option(names = "--cafile", paramLabel = "PEM", description = "CA certificates to trust for https addresses.")
    Path caFile;

    @Option(names = "--insecure", description = "Do not verify https certificates.")
    boolean insecure;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "4",
            description = "Connections to NBD exports that allow several (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--top-layer-only",
            description = "Read only the top layer of a qcow2 chain: ranges it leaves to its backing file are "
                    + "left untouched on the target (for copying an overlay onto a copy of its backing).")
    boolean topLayerOnly;

    @Option(names = "--http-stream",
            description = "Move imageio HTTP images as one sparse stream in a single request (GET/PUT "
                    + "?format=sparse), when the server offers it (extentflow serve does).")
    boolean httpStream;

    @Option(names = "--retries", paramLabel = "N", defaultValue = "" + EndpointOptions.DEFAULT_RETRIES,
            description = "Retries of an HTTP request that failed on a reset or refused connection, a timeout or a "
                    + "5xx, waiting 0.1 s doubling up to 2 s between them: N retries wait for a server to come "
                    + "back for about 2N seconds (default: ${DEFAULT-VALUE}).")
    int retries;

    EndpointOptions options() {
        return EndpointOptions.defaults().withCaFile(caFile).withInsecure(insecure).withConnections(connections)
                .withTopLayerOnly(topLayerOnly).withHttpStream(httpStream).withRetries(retries);
    }
}
