package io.extentflow.server.cli;

import io.extentflow.daemon.CopyDaemon;
import io.extentflow.daemon.cli.DaemonOptions;
import io.extentflow.daemon.cli.ServeSettings;
import io.extentflow.server.ImageServer;
import io.extentflow.server.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code extentflow serve}: runs the imageio-compatible image daemon until interrupted, then shuts
 * down gracefully (tickets canceled, running transfers given {@code --grace} seconds).
 */
@Command(name = "serve", mixinStandardHelpOptions = true, defaultValueProvider = ServeSettings.class,
        description = {"Serve disk images over the oVirt imageio HTTP API.",
            "Tickets are managed through the control API (see 'extentflow ticket').",
            "Without --tls-cert/--tls-key only 127.0.0.1 is served.",
            "With --state-dir, also the copy daemon: jobs API (/v1/copies), status page (/); see docs/daemon.md.",
            "Every option can also be set as EXTENTFLOW_<NAME> (e.g. EXTENTFLOW_MAX_JOBS) or in the --config file."})
public final class ServeCommand implements Callable<Integer> {

    @Option(names = "--host", description = "Address to serve with TLS (default: ${DEFAULT-VALUE}).",
            defaultValue = "0.0.0.0")
    String host;

    @Option(names = "--port", description = "Data API port (default: ${DEFAULT-VALUE}).", defaultValue = "54322")
    int port;

    @Option(names = "--control-socket", description = "Unix socket of the control API.")
    Path controlSocket;

    @Option(names = "--control-port", description = "Loopback port of the control API when no socket is given "
            + "(default: ${DEFAULT-VALUE}).", defaultValue = "54324")
    int controlPort;

    @Option(names = "--local-socket", paramLabel = "PATH", description = "Also serve the data API on this Unix "
            + "socket for clients on this host (ovirt-imageio's local service: announced as unix_socket in OPTIONS; "
            + "extentflow and imageio clients switch to it when they connect from the same host).")
    Path localSocket;

    @Option(names = "--tls-cert", description = "PEM certificate chain: serve https.")
    Path tlsCert;

    @Option(names = "--tls-key", description = "PEM private key (PKCS#8) of the certificate.")
    Path tlsKey;

    @Option(names = "--metrics-port", paramLabel = "PORT", description = "Serve GET /metrics (Prometheus) on this "
            + "port only, not on the data port: on 127.0.0.1, or with TLS on --host with the same certificate.")
    Integer metricsPort;

    @Option(names = "--max-readers", description = "Parallel reads per ticket (default: ${DEFAULT-VALUE}).",
            defaultValue = "8")
    int maxReaders;

    @Option(names = "--max-writers", description = "Parallel writes per ticket (default: ${DEFAULT-VALUE}).",
            defaultValue = "8")
    int maxWriters;

    @Option(names = "--buffer-memory", description = "Bytes of transfer buffers for the whole server "
            + "(default: ${DEFAULT-VALUE}).", defaultValue = "67108864")
    long bufferMemory;

    @Option(names = "--grace", description = "Seconds running transfers get at shutdown (default: ${DEFAULT-VALUE}).",
            defaultValue = "10")
    int grace;

    /** The copy daemon's options (jobs API, state directory). */
    @Mixin
    DaemonOptions daemonOptions;

    /** The copy daemon, when {@link #start()} started one. */
    private CopyDaemon daemon;

    /** The configuration the options describe. */
    public ServerConfig config() {
        ServerConfig c = ServerConfig.defaults()
                .withHost(host)
                .withPort(port)
                .withControlPort(controlPort)
                .withLimits(maxReaders, maxWriters);
        c = c.withBuffers(c.chunkSize(), bufferMemory, c.buffersPerRequest());
        if (controlSocket != null) {
            c = c.withControlSocket(controlSocket);
        }
        if (metricsPort != null) {
            c = c.withMetricsPort(metricsPort);
        }
        if (localSocket != null) {
            c = c.withLocalSocket(localSocket);
        }
        if (tlsCert != null || tlsKey != null) {
            c = c.withTls(tlsCert, tlsKey);
        }
        return c;
    }

    /**
     * Starts the server with a Prometheus registry behind {@code GET /metrics}, and the copy daemon
     * on it when a state directory is configured.
     */
    public ImageServer start() throws java.io.IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        if (daemonOptions != null && daemonOptions.enabled()) {
            daemon = CopyDaemon.start(config(), daemonOptions.config(), registry, registry::scrape)
                    .block(Duration.ofSeconds(30));
            return daemon.imageServer();
        }
        return ImageServer.start(config(), registry, registry::scrape).block(Duration.ofSeconds(30));
    }

    @Override
    public Integer call() throws Exception {
        ImageServer server = start();
        System.out.println("extentflow serve: " + server.notice());
        System.out.println("  data API:    " + server.imageUrl("<ticket>"));
        System.out.println("  control API: " + server.controlAddress());
        System.out.println("  metrics:     " + server.metricsUrl());
        if (daemon != null) {
            System.out.println("  jobs API:    " + server.imageUrl("").replace("/images/", "/v1/copies"));
            System.out.println("  status page: " + server.imageUrl("").replace("/images/", "/"));
        }
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            (daemon != null ? daemon.shutdown(Duration.ofSeconds(grace)) : server.shutdown(Duration.ofSeconds(grace)))
                    .block(Duration.ofSeconds(grace + 5L));
            stopped.countDown();
        }, "extentflow-serve-shutdown"));
        stopped.await();
        return 0;
    }
}
