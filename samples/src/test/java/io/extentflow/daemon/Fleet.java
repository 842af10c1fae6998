package io.extentflow.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.daemon.cli.DaemonOptions;
import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * A fleet for a test: a real PostgreSQL ({@link PostgresServer}) and copy daemons started as
 * processes ({@code extentflow serve --jobs-db ...}), each with a client of its jobs API.
 */
final class Fleet implements AutoCloseable {

    final Path dir;
    final PostgresServer pg;
    final List<DaemonProcess> daemons = new ArrayList<>();
    private final List<String> daemonArgs;

    private Fleet(Path dir, PostgresServer pg, List<String> daemonArgs) {
        this.dir = dir;
        this.pg = pg;
        this.daemonArgs = daemonArgs;
    }

    /** Starts PostgreSQL and {@code n} daemons, each given {@code args} beside the database's address. */
    static Fleet start(Path dir, int n, String... args) throws IOException, InterruptedException {
        Fleet f = new Fleet(dir, PostgresServer.start(), List.of(args));
        try {
            for (int i = 0; i < n; i++) {
                f.startDaemon();
            }
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            f.close();
            throw e;
        }
        return f;
    }

    /** Starts one more daemon on the fleet's database, given {@code more} after the fleet's arguments. */
    DaemonProcess startDaemon(String... more) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--jobs-db", pg.address(), "--control-socket",
                dir.resolve("ctl-" + daemons.size() + ".sock").toString()));
        args.addAll(daemonArgs);
        args.addAll(List.of(more));
        DaemonProcess d = DaemonProcess.start(dir, JobsClient.TOKEN, env(), args.toArray(String[]::new));
        daemons.add(d);
        return d;
    }

    /** The environment of a daemon: its jobs API token and the database password. */
    Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put(DaemonOptions.TOKEN_VARIABLE, JobsClient.TOKEN);
        env.put(DatabaseConfig.PASSWORD_VARIABLE, pg.password);
        return env;
    }

    JobsClient client(int daemon) {
        return new JobsClient(daemons.get(daemon).port);
    }

    /** The daemon whose name in the fleet ({@code host:pid:random}) is {@code owner}. */
    DaemonProcess byOwner(String owner) {
        long pid = Long.parseLong(owner.split(":")[1]);
        return daemons.stream().filter(d -> d.pid() == pid).findFirst()
                .orElseThrow(() -> new AssertionError("no daemon of this fleet is " + owner));
    }

    /** Every job, as {@code client} lists them. */
    static List<JsonNode> jobs(JobsClient client) {
        JobsClient.Reply r = client.request(HttpMethod.GET, "/v1/copies", null);
        if (r.status() != 200) {
            throw new AssertionError("GET /v1/copies: " + r);
        }
        List<JsonNode> out = new ArrayList<>();
        r.json().forEach(out::add);
        return out;
    }

    /**
     * Polls {@code client}'s job list until {@code done} accepts it (or fails after {@code timeout},
     * showing the last list and the daemons' logs): a condition wait on the API, not a sleep.
     */
    List<JsonNode> awaitJobs(JobsClient client, Duration timeout, String what, Predicate<List<JsonNode>> done)
            throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<JsonNode> last = List.of();
        while (System.nanoTime() < deadline) {
            try {
                last = jobs(client);
                if (done.test(last)) {
                    return last;
                }
            } catch (RuntimeException e) {
                // a daemon's answer failed (e.g. the database is restarting): look again
            }
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
        }
        StringBuilder logs = new StringBuilder();
        for (DaemonProcess d : daemons) {
            logs.append("\n--- daemon ").append(d.pid()).append(":\n").append(tail(d.log()));
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; jobs: " + last + logs);
    }

    /** Polls {@code condition} until it holds; fails after {@code timeout}. */
    void await(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
    }

    /** Polls the database until {@code sql} returns a non-empty answer; returns it. */
    String awaitQuery(Duration timeout, String what, String sql) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String out = pg.query(sql);
            if (!out.isEmpty()) {
                return out;
            }
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
        StringBuilder logs = new StringBuilder();
        for (DaemonProcess d : daemons) {
            logs.append("\n--- daemon ").append(d.pid()).append(":\n").append(tail(d.log()));
        }
        throw new AssertionError("timed out after " + timeout + " waiting for " + what + " (" + sql + "); jobs:\n"
                + pg.query("SELECT id, state, owner, generation, checkpoint, view->>'done_bytes', view->>'error' "
                + "FROM extentflow_jobs ORDER BY seq") + logs);
    }

    static boolean allFinished(List<JsonNode> jobs, int count) {
        return jobs.size() == count && jobs.stream()
                .allMatch(j -> JobState.ofWire(j.get("state").asText()).terminal());
    }

    private static String tail(String log) {
        return log.length() > 4000 ? "..." + log.substring(log.length() - 4000) : log;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        try {
            for (DaemonProcess d : daemons) {
                d.close();
            }
        } finally {
            pg.close();
        }
    }
}
