package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.engine.endpoint.EndpointOptions;
import java.nio.file.Path;

/** The flags every command that opens addresses shares; they become the engine's {@link EndpointOptions}. */
final class EndpointFlags {

    private Path caFile;
    private boolean insecure;
    private int connections;
    private boolean topLayerOnly;
    private boolean httpStream;
    private int retries;

    /** Adds the flags to {@code command}. */
    void define(CommandSpec command) {
        command.option("--cafile", "PEM", "CA certificates to trust for https addresses.", null,
                        v -> caFile = Path.of(v))
                .flag("--insecure", "Do not verify https certificates.", () -> insecure = true)
                .option("--connections", "N", "Connections to NBD exports that allow several (default: one "
                        + "per CPU, at most 4, as nbdcopy) and to imageio HTTP servers (default: 4, or fewer if "
                        + "the server says so).", null, v -> connections = positive("--connections", v))
                .flag("--top-layer-only", "Read only the top layer of a qcow2 chain: ranges it leaves to its "
                        + "backing file are left untouched on the target (for copying an overlay onto a copy of "
                        + "its backing).", () -> topLayerOnly = true)
                .flag("--http-stream", "Move imageio HTTP images as one sparse stream in a single request "
                        + "(GET/PUT ?format=sparse), when the server offers it (extentflow serve does).",
                        () -> httpStream = true)
                .option("--retries", "N", "Retries of an HTTP request that failed on a reset or refused "
                        + "connection, a timeout or a 5xx, waiting 0.1 s doubling up to 2 s between them: N "
                        + "retries wait for a server to come back for about 2N seconds.",
                        "" + EndpointOptions.DEFAULT_RETRIES, v -> retries = Integer.parseInt(v));
    }

    private static int positive(String option, String value) {
        int n = Integer.parseInt(value);
        if (n <= 0) {
            throw new IllegalArgumentException(option + " must be at least 1, got " + n);
        }
        return n;
    }

    EndpointOptions options() {
        return EndpointOptions.defaults().withCaFile(caFile).withInsecure(insecure).withConnections(connections)
                .withTopLayerOnly(topLayerOnly).withHttpStream(httpStream).withRetries(retries);
    }
}
