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

    EndpointOptions options() {
        return EndpointOptions.defaults().withCaFile(caFile).withInsecure(insecure).withConnections(connections)
                .withTopLayerOnly(topLayerOnly).withHttpStream(httpStream);
    }
}
