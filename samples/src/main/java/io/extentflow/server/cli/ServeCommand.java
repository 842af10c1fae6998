package io.extentflow.server.cli;

import io.extentflow.cli.args.ArgumentParser;
import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.UsageException;
import io.extentflow.daemon.CopyDaemon;
import io.extentflow.daemon.cli.DaemonOptions;
import io.extentflow.daemon.cli.ServeSettings;
import io.extentflow.server.ImageServer;
import io.extentflow.server.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import reactor.netty.ChannelBindException;

/**
 * {@code extentflow serve}: runs the imageio-compatible image daemon until interrupted, then shuts
 * down gracefully (tickets canceled, running transfers given {@code --grace} seconds).
 */
public final class ServeCommand {

    private String host;
    private int port;
    private Path controlSocket;
    private int controlPort;
    private Path localSocket;
    private Path tlsCert;
    private Path tlsKey;
    private Integer metricsPort;
    private int maxReaders;
    private int maxWriters;
    private long bufferMemory;
    private int grace;

    /** The copy daemon's options (jobs API, state directory). */
    private final DaemonOptions daemonOptions = new DaemonOptions();

    /** The command line of {@code extentflow serve}, setting the fields of {@code c}. */
    public static CommandSpec spec(ServeCommand c) {
        return CommandSpec.named("serve", "Serve disk images over the oVirt imageio HTTP API.",
                        "Tickets are managed through the control API (see 'extentflow ticket').",
                        "Without --tls-cert/--tls-key only 127.0.0.1 is served.",
                        "With --state-dir, also the copy daemon: jobs API (/v1/copies), status page (/); see "
                                + "docs/daemon.md.",
                        "Every option can also be set as EXTENTFLOW_<NAME> (e.g. EXTENTFLOW_MAX_JOBS) or in the "
                                + "--config file.")
                .option("--host", "ADDRESS", "Address to serve with TLS.", "0.0.0.0", v -> c.host = v)
                .option("--port", "PORT", "Data API port.", "54322", v -> c.port = Integer.parseInt(v))
                .option("--control-socket", "PATH", "Unix socket of the control API.", null,
                        v -> c.controlSocket = Path.of(v))
                .option("--control-port", "PORT", "Loopback port of the control API when no socket is given.",
                        "54324", v -> c.controlPort = Integer.parseInt(v))
                .option("--local-socket", "PATH", "Also serve the data API on this Unix socket for clients on this "
                        + "host (ovirt-imageio's local service: announced as unix_socket in OPTIONS; extentflow and "
                        + "imageio clients switch to it when they connect from the same host).", null,
                        v -> c.localSocket = Path.of(v))
                .option("--tls-cert", "PEM", "PEM certificate chain: serve https.", null, v -> c.tlsCert = Path.of(v))
                .option("--tls-key", "PEM", "PEM private key (PKCS#8) of the certificate.", null,
                        v -> c.tlsKey = Path.of(v))
                .option("--metrics-port", "PORT", "Serve GET /metrics (Prometheus) on this port only, not on the "
                        + "data port: on 127.0.0.1, or with TLS on --host with the same certificate.", null,
                        v -> c.metricsPort = Integer.valueOf(v))
                .option("--max-readers", "N", "Parallel reads per ticket.", "8", v -> c.maxReaders = Integer.parseInt(v))
                .option("--max-writers", "N", "Parallel writes per ticket.", "8", v -> c.maxWriters = Integer.parseInt(v))
                .option("--buffer-memory", "BYTES", "Bytes of transfer buffers for the whole server.", "67108864",
                        v -> c.bufferMemory = Long.parseLong(v))
                .option("--grace", "SECONDS", "Seconds running transfers get at shutdown.", "10",
                        v -> c.grace = Integer.parseInt(v))
                .with(c.daemonOptions::define)
                .settings(new ServeSettings(c.daemonOptions::configFile))
                .action(console -> c.call());
    }

    /**
     * A serve command configured from {@code args} (flags, then environment and {@code --config}
     * settings, then defaults), for embedding the server and for tests.
     *
     * @throws UsageException when the arguments or settings are wrong
     */
    public static ServeCommand parse(String... args) {
        ServeCommand c = new ServeCommand();
        ArgumentParser.parse(spec(c), List.of(args));
        return c;
    }

    /** The copy daemon's options, as parsed. */
    public DaemonOptions daemonOptions() {
        return daemonOptions;
    }

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
    public ImageServer start() throws IOException {
        if (controlSocket != null) {
            refuseControlSocketInUse(controlSocket);
        }
        try {
            return startServer();
        } catch (RuntimeException e) {
            throw bindFailure(e);
        }
    }

    /**
     * Another server's control API must not be taken over: its socket path would be replaced (and
     * deleted when this one exits), leaving that server unreachable. A socket file nobody answers
     * on is stale, and the server replaces it.
     */
    private static void refuseControlSocketInUse(Path socket) throws IOException {
        if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException nobodyListens) {
            return;
        }
        throw new IOException("control socket " + socket + " is in use by another server; stop it or "
                + "give another --control-socket");
    }

    /** "Failed to bind on [127.0.0.1:55901]" becomes "port 55901 on 127.0.0.1 is in use". */
    private static RuntimeException bindFailure(RuntimeException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof ChannelBindException b) {
                String why = b.getCause() instanceof BindException be && be.getMessage() != null
                        && !be.getMessage().contains("in use") ? ": " + be.getMessage() : " is in use";
                return new UncheckedIOException(new IOException(
                        "port " + b.localPort() + " on " + b.localHost() + why, e));
            }
        }
        return e;
    }

    private ImageServer startServer() throws IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        if (daemonOptions != null && daemonOptions.enabled()) {
            daemon = CopyDaemon.start(config(), daemonOptions.config(), registry, registry::scrape)
                    .block(Duration.ofSeconds(30));
            return daemon.imageServer();
        }
        return ImageServer.start(config(), registry, registry::scrape).block(Duration.ofSeconds(30));
    }

    private int call() throws Exception {
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
