package io.extentflow.daemon;

import io.extentflow.engine.imageio.Ticket;
import io.extentflow.server.ServerConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.Set;

/**
 * A copy daemon in the test JVM (ephemeral loopback port, control API on a Unix socket, state in a
 * temporary directory) and a client for its jobs API.
 */
final class DaemonFixture extends JobsClient implements AutoCloseable {

    final PrometheusMeterRegistry registry;
    final CopyDaemon daemon;

    DaemonFixture(Path dir) {
        this(dir, DaemonConfig.of(dir.resolve("state"), TOKEN));
    }

    DaemonFixture(Path dir, DaemonConfig config) {
        this(dir, config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    private DaemonFixture(Path dir, DaemonConfig config, PrometheusMeterRegistry registry) {
        this(registry, CopyDaemon.start(ServerConfig.defaults().withPort(0).withControlSocket(dir.resolve("ctl.sock")),
                config, registry, registry::scrape).block(TIMEOUT));
    }

    private DaemonFixture(PrometheusMeterRegistry registry, CopyDaemon daemon) {
        super(daemon.port());
        this.registry = registry;
        this.daemon = daemon;
    }

    /** Adds a ticket on the daemon's own image server; returns its URL. */
    String ticket(String id, Path image, long size, String... ops) {
        daemon.imageServer().tickets().put(new Ticket(id, size, "file://" + image.toAbsolutePath(), Set.of(ops),
                300, 60, false, "transfer-" + id, null));
        return daemon.imageServer().imageUrl(id);
    }

    @Override
    public void close() {
        daemon.close();
    }
}
