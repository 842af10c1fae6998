package io.extentflow.daemon;

import io.extentflow.server.ImageServer;
import io.extentflow.server.ServerConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The copy daemon: the image server ({@code extentflow serve}) plus, on the same data port, the
 * jobs API ({@code /v1/copies}, see {@link JobsApi}) and the status page ({@code /}). Copies survive
 * a restart: their records and checkpoints are journaled under {@link DaemonConfig#stateDir()}.
 *
 * <pre>{@code
 * CopyDaemon d = CopyDaemon.start(ServerConfig.defaults().withPort(0),
 *         DaemonConfig.of(Path.of("/var/lib/extentflow"), token), registry, registry::scrape).block();
 * // POST http://127.0.0.1:<d.port()>/v1/copies with "Authorization: Bearer <token>"
 * d.close();
 * }</pre>
 */
public final class CopyDaemon implements AutoCloseable {

    private final ImageServer server;
    private final JobManager jobs;

    private CopyDaemon(ImageServer server, JobManager jobs) {
        this.server = server;
        this.jobs = jobs;
    }

    /**
     * Opens the state directory, starts the server, then resumes the jobs a previous run left
     * unfinished. {@code scrape} (may be null) serves {@code GET /metrics}; the daemon's meters go
     * to {@code registry}.
     */
    public static Mono<CopyDaemon> start(ServerConfig serverConfig, DaemonConfig config, MeterRegistry registry,
                                         Supplier<String> scrape) {
        return Mono.zip(JobManager.open(config, registry), StatusPage.load()).flatMap(t -> {
            JobManager jobs = t.getT1();
            StatusPage page = t.getT2();
            JobsApi api = new JobsApi(jobs, new Auth(config.token()), config.eventInterval());
            ImageServer.ExtraRoutes routes = (HttpServerRequest req, HttpServerResponse resp, String path) -> {
                if (JobsApi.serves(path)) {
                    return api.handle(req, resp, path);
                }
                return page.serves(path) ? page.handle(req, resp, path) : null;
            };
            return ImageServer.start(serverConfig, registry, scrape, routes)
                    .onErrorResume(e -> jobs.close(Duration.ofSeconds(5)).then(Mono.error(e)))
                    .map(server -> {
                        jobs.resumeInterrupted();
                        return new CopyDaemon(server, jobs);
                    });
        });
    }

    /** The image server (tickets, data API) this daemon runs on. */
    public ImageServer imageServer() {
        return server;
    }

    /** The copy jobs. */
    public JobManager jobs() {
        return jobs;
    }

    /** The port of the data API, the jobs API and the status page. */
    public int port() {
        return server.port();
    }

    /**
     * Stops: running copies are stopped without being recorded as cancelled (the next start resumes
     * them), then the server shuts down, giving transfers {@code grace}.
     */
    public Mono<Void> shutdown(Duration grace) {
        return jobs.close(grace).then(server.shutdown(grace));
    }

    /** Stops, waiting at most 30 s. Not on an event loop. */
    @Override
    public void close() {
        shutdown(Duration.ofSeconds(10)).block(Duration.ofSeconds(30));
    }
}
