package io.extentflow.daemon;

import io.extentflow.engine.io.BlockingIo;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.postgresql.api.PostgresqlResult;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Creates and migrates the fleet's schema: the SQL files listed in {@code db/migrations.list}
 * (next to this class), {@code V<n>__<what>.sql}, each applied once, in its own transaction, with
 * its version recorded in {@code extentflow_schema_version}.
 *
 * <p>Not Flyway or Liquibase: both run on blocking JDBC, which would bring a JDBC driver and a
 * thread that waits for the database into a daemon that otherwise never blocks; the whole need
 * here is a handful of ordered scripts and a table of applied versions. Daemons of a fleet that start
 * together take turns with an advisory lock, so each script runs exactly once.
 */
final class Migrations {

    private static final Logger LOG = Logger.getLogger("io.extentflow.daemon");
    private static final Pattern NAME = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.sql");
    /** The advisory lock the daemons take while they migrate (any constant of our own). */
    private static final long LOCK = 0x657874666c6f77L; // "extflow"

    /** One script: its version, name and SQL. */
    record Migration(int version, String name, String sql) {
    }

    private Migrations() {
    }

    /** The migrations kept in the repository, in order. Blocking (reads the class path). */
    static List<Migration> bundled() throws IOException {
        List<Migration> out = new ArrayList<>();
        for (String line : resource("db/migrations.list").split("\n")) {
            String name = line.strip();
            if (name.isEmpty() || name.startsWith("#")) {
                continue;
            }
            Matcher m = NAME.matcher(name);
            if (!m.matches()) {
                throw new IOException("migration file name '" + name + "' is not V<n>__<what>.sql");
            }
            int version = Integer.parseInt(m.group(1));
            if (version != out.size() + 1) {
                throw new IOException("migration " + name + " is out of order: expected version " + (out.size() + 1));
            }
            out.add(new Migration(version, name, resource("db/" + name)));
        }
        return out;
    }

    /** Brings the database's schema up to date; emits the schema version it then has. */
    static Mono<Integer> apply(Database db) {
        return BlockingIo.call(() -> {
            Database.loadCrypto();
            return bundled();
        }).flatMap(migrations -> Mono.usingWhen(db.connect(),
                c -> run(c, migrations).onErrorMap(e -> !(e instanceof Database.DatabaseUnavailable),
                        e -> new Database.DatabaseUnavailable("cannot migrate the jobs database "
                                + db.config().address() + ": " + Database.reason(e), e)),
                c -> c.close().onErrorResume(e -> Mono.empty())));
    }

    private static Mono<Integer> run(PostgresqlConnection c, List<Migration> migrations) {
        // the lock is the session's: closing the connection releases it even when a script fails
        return sql(c, "SELECT pg_advisory_lock(" + LOCK + ")")
                .then(sql(c, "CREATE TABLE IF NOT EXISTS extentflow_schema_version ("
                        + "version integer PRIMARY KEY, name text NOT NULL, "
                        + "applied timestamptz NOT NULL DEFAULT now())"))
                .then(c.createStatement("SELECT version FROM extentflow_schema_version").execute()
                        .concatMap(r -> r.map((row, meta) -> row.get("version", Integer.class)))
                        .collect(Collectors.toSet()))
                .flatMap(applied -> {
                    int newest = applied.stream().mapToInt(Integer::intValue).max().orElse(0);
                    if (newest > migrations.size()) {
                        return Mono.error(new IllegalStateException("its schema version " + newest
                                + " is newer than this extentflow knows (" + migrations.size()
                                + "); run a newer extentflow"));
                    }
                    return Flux.fromIterable(migrations)
                            .filter(m -> !applied.contains(m.version()))
                            .concatMap(m -> migrate(c, m))
                            .then(Mono.just(migrations.size()));
                })
                .flatMap(v -> sql(c, "SELECT pg_advisory_unlock(" + LOCK + ")").thenReturn(v));
    }

    private static Mono<Void> migrate(PostgresqlConnection c, Migration m) {
        // several statements in one simple query, then the version, in one transaction
        return c.beginTransaction()
                .then(sql(c, m.sql()))
                .then(c.createStatement("INSERT INTO extentflow_schema_version (version, name) VALUES ($1, $2)")
                        .bind("$1", m.version()).bind("$2", m.name()).execute()
                        .concatMap(PostgresqlResult::getRowsUpdated).then())
                .then(c.commitTransaction())
                .doOnSuccess(v -> LOG.info("jobs database: applied migration " + m.name()))
                .onErrorResume(e -> c.rollbackTransaction().onErrorResume(x -> Mono.empty())
                        .then(Mono.error(new IllegalStateException("migration " + m.name() + " failed: "
                                + Database.reason(e), e))));
    }

    private static Mono<Void> sql(PostgresqlConnection c, String sql) {
        return c.createStatement(sql).execute().concatMap(PostgresqlResult::getRowsUpdated).then();
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = Migrations.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("migration resource missing: " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
