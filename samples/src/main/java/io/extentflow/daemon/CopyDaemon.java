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
 * a restart: their records and checkpoints are journaled under {@link DaemonConfig#stateDir()}, or,
 * with {@link DaemonConfig#jobsDb()}, kept in a PostgreSQL database that a fleet of daemons shares
 * ({@link FleetJobManager}).
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
    /** The journal's jobs, or null in fleet mode. */
    private final JobManager jobs;
    /** The fleet's jobs, or null in journal mode. */
    private final FleetJobManager fleet;

    private CopyDaemon(ImageServer server, JobManager jobs, FleetJobManager fleet) {
        this.server = server;
        this.jobs = jobs;
        this.fleet = fleet;
    }

    /** The jobs, their store opened: the journal's, or the fleet's when a jobs database is configured. */
    private record Opened(JobManager journal, FleetJobManager fleet) {
        JobBoard board() {
            return journal != null ? journal.board() : fleet.board();
        }

        Mono<Void> close(Duration grace) {
            return journal != null ? journal.close(grace) : fleet.close(grace);
        }
    }

    private static Mono<Opened> open(DaemonConfig config, MeterRegistry registry) {
        return config.jobsDb() != null
                ? FleetJobManager.open(config, registry).map(f -> new Opened(null, f))
                : JobManager.open(config, registry).map(j -> new Opened(j, null));
    }

    /**
     * Opens the state directory, starts the server, then resumes the jobs a previous run left
     * unfinished. {@code scrape} (may be null) serves {@code GET /metrics}; the daemon's meters go
     * to {@code registry}.
     */
    public static Mono<CopyDaemon> start(ServerConfig serverConfig, DaemonConfig config, MeterRegistry registry,
                                         Supplier<String> scrape) {
        return Mono.zip(open(config, registry), StatusPage.load()).flatMap(t -> {
            Opened jobs = t.getT1();
            StatusPage page = t.getT2();
            JobsApi api = new JobsApi(jobs.board(), new Auth(config.token()), config.eventInterval());
            ImageServer.ExtraRoutes routes = (HttpServerRequest req, HttpServerResponse resp, String path) -> {
                if (JobsApi.serves(path)) {
                    return api.handle(req, resp, path);
                }
                return page.serves(path) ? page.handle(req, resp, path) : null;
            };
            return ImageServer.start(serverConfig, registry, scrape, routes)
                    .onErrorResume(e -> jobs.close(Duration.ofSeconds(5)).then(Mono.error(e)))
                    .map(server -> {
                        if (jobs.journal() != null) {
                            jobs.journal().resumeInterrupted();
                        } else {
                            jobs.fleet().start();
                        }
                        return new CopyDaemon(server, jobs.journal(), jobs.fleet());
                    });
        });
    }

    /** The image server (tickets, data API) this daemon runs on. */
    public ImageServer imageServer() {
        return server;
    }

    /** The copy jobs of journal mode; fails in fleet mode (see {@link #fleet()}). */
    public JobManager jobs() {
        if (jobs == null) {
            throw new IllegalStateException("the daemon keeps its jobs in the fleet's database");
        }
        return jobs;
    }

    /** The fleet's jobs, in fleet mode ({@link DaemonConfig#jobsDb()}); fails in journal mode. */
    public FleetJobManager fleet() {
        if (fleet == null) {
            throw new IllegalStateException("the daemon keeps its jobs in its journal");
        }
        return fleet;
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
        return (jobs != null ? jobs.close(grace) : fleet.close(grace)).then(server.shutdown(grace));
    }

    /** Stops, waiting at most 30 s. Not on an event loop. */
    @Override
    public void close() {
        shutdown(Duration.ofSeconds(10)).block(Duration.ofSeconds(30));
    }
}
