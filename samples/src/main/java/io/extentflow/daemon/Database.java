package io.extentflow.daemon;

import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import io.r2dbc.postgresql.api.Notification;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.postgresql.api.PostgresqlResult;
import io.r2dbc.spi.ValidationDepth;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The fleet's PostgreSQL database, through the reactive R2DBC driver (r2dbc-postgresql, on Reactor
 * Netty: no thread waits for the database).
 *
 * <p>Every job-state write and every claim of the fleet is one query message, atomic on its own, so
 * the daemon shares one connection for all of them (the driver queues statements on it) and needs
 * no pool. A connection
 * that broke (the server restarted, the network failed) is dropped, and the next statement opens a
 * new one: the daemon rides out a database restart without being told. Notifications
 * ({@code LISTEN}) take a connection of their own, opened again whenever it is lost.
 */
final class Database implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("io.extentflow.daemon");

    private final DatabaseConfig config;
    private final PostgresqlConnectionFactory factory;
    /**
     * How long a statement that a user's request waits on (submit, cancel, a job's view, the list)
     * may take: it holds no lease, so it may wait as long as an HTTP client does, also while the
     * statements of a busy daemon queue up on the shared connection.
     */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    /**
     * How long a statement of the leases (claim, renewal, checkpoint, final state) may take before its
     * connection is given up: less than the lease, whose renewal would otherwise come too late.
     */
    private final Duration statementTimeout;
    /** The connection shared by single statements. */
    private final Lane statements = new Lane();
    /** Statements sent ({@link #execute}), each one exchange with the server: a round trip. */
    private final AtomicLong roundTrips = new AtomicLong();

    Database(DatabaseConfig config, Duration statementTimeout) {
        this.config = config;
        this.statementTimeout = statementTimeout;
        this.factory = new PostgresqlConnectionFactory(PostgresqlConnectionConfiguration.builder()
                .host(config.host()).port(config.port()).database(config.database())
                .username(config.user()).password(config.password())
                .applicationName("extentflow")
                .connectTimeout(config.connectTimeout())
                .tcpKeepAlive(true)
                .build());
    }

    DatabaseConfig config() {
        return config;
    }

    /** A new connection of the caller's own (migrations); fails with a one-line reason when unreachable. */
    Mono<PostgresqlConnection> connect() {
        return factory.create()
                .timeout(config.connectTimeout().plusSeconds(1))
                .onErrorMap(e -> new DatabaseUnavailable("cannot reach the jobs database " + config.address()
                        + ": " + reason(e), e));
    }

    /**
     * Runs one statement's work on the shared connection and emits what it maps. A connection that
     * broke is dropped (the error goes to the caller, who decides whether to try again). The work
     * is one query message to the server and its answer (one statement, or several in one message):
     * one round trip, counted in {@link #roundTrips()}.
     */
    <T> Flux<T> execute(Function<PostgresqlConnection, Publisher<T>> work) {
        return execute(statementTimeout, work);
    }

    /** Like {@link #execute(Function)}, given up after {@code timeout} (e.g. {@link #REQUEST_TIMEOUT}). */
    <T> Flux<T> execute(Duration timeout, Function<PostgresqlConnection, Publisher<T>> work) {
        return statements.execute(timeout, work).doOnSubscribe(s -> roundTrips.incrementAndGet());
    }

    /**
     * Round trips to the database so far: statements sent by {@link #execute} and {@link #update}
     * (logins and {@code LISTEN} not counted: a few per connection, not per job).
     */
    long roundTrips() {
        return roundTrips.get();
    }

    /** Rows a single statement changed. */
    Mono<Long> update(Function<PostgresqlConnection, Publisher<PostgresqlResult>> statement) {
        return update(statementTimeout, statement);
    }

    /** Like {@link #update(Function)}, given up after {@code timeout}. */
    Mono<Long> update(Duration timeout, Function<PostgresqlConnection, Publisher<PostgresqlResult>> statement) {
        return execute(timeout, c -> Flux.from(statement.apply(c)).concatMap(PostgresqlResult::getRowsUpdated))
                .reduce(0L, Long::sum);
    }

    /** A connection kept open for one kind of use, opened again after it broke. */
    private final class Lane {

        private final AtomicReference<Mono<PostgresqlConnection>> current = new AtomicReference<>();

        <T> Flux<T> execute(Duration timeout, Function<PostgresqlConnection, Publisher<T>> work) {
            return Flux.defer(() -> {
                Mono<PostgresqlConnection> connection = connection();
                return connection.flatMapMany(c -> Flux.from(work.apply(c))
                        .timeout(timeout)
                        .onErrorResume(e -> dropIfBroken(connection, c, e).then(Mono.error(e))));
            });
        }

        private Mono<PostgresqlConnection> connection() {
            while (true) {
                Mono<PostgresqlConnection> open = current.get();
                if (open != null) {
                    return open;
                }
                // cached while open; a failed attempt is forgotten so that the next statement tries again
                AtomicReference<Mono<PostgresqlConnection>> self = new AtomicReference<>();
                Mono<PostgresqlConnection> fresh = connect()
                        .doOnError(e -> current.compareAndSet(self.get(), null))
                        .cache(c -> Duration.ofMillis(Long.MAX_VALUE), e -> Duration.ZERO, () -> Duration.ZERO);
                self.set(fresh);
                if (current.compareAndSet(null, fresh)) {
                    return fresh;
                }
            }
        }

        private Mono<Void> dropIfBroken(Mono<PostgresqlConnection> cached, PostgresqlConnection c, Throwable error) {
            // a statement that timed out may still run: its connection is given up too
            Mono<Boolean> valid = error instanceof TimeoutException ? Mono.just(false)
                    : c.validate(ValidationDepth.LOCAL).onErrorReturn(false);
            return valid.flatMap(ok -> {
                if (!ok && current.compareAndSet(cached, null)) {
                    LOG.warning("jobs database connection lost (" + reason(error) + "); reconnecting");
                    return c.close().onErrorResume(x -> Mono.empty());
                }
                return Mono.empty();
            });
        }

        void close() {
            Mono<PostgresqlConnection> open = current.getAndSet(null);
            if (open != null) {
                open.flatMap(PostgresqlConnection::close).onErrorResume(e -> Mono.empty()).subscribe();
            }
        }
    }

    /**
     * The notifications of {@code channels}, on a connection of their own, listening again (after
     * {@code onListening} runs) whenever the connection is lost. Notifications sent while no
     * connection listened are lost: the caller must also look by itself now and then.
     */
    Flux<Notification> listen(List<String> channels, Runnable onListening) {
        String listen = String.join("; ", channels.stream().map(ch -> "LISTEN " + ch).toList());
        return Flux.usingWhen(connect(),
                        c -> c.createStatement(listen).execute()
                                .concatMap(PostgresqlResult::getRowsUpdated)
                                .then(Mono.fromRunnable(onListening))
                                .thenMany(c.getNotifications())
                                // the stream ends when the connection does: listen again
                                .concatWith(Mono.error(() -> new DatabaseUnavailable("notification connection closed",
                                        null))),
                        c -> c.close().onErrorResume(e -> Mono.empty()))
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(2))
                        .doBeforeRetry(s -> LOG.log(s.totalRetriesInARow() == 0 ? Level.WARNING : Level.FINE,
                                "jobs database notifications lost (" + reason(s.failure()) + "); listening again")));
    }

    /**
     * Loads what the SCRAM login needs from the JDK (the JCE reads its policy files when first used,
     * SecureRandom opens /dev/urandom), so that the driver's first login, on its event loop, finds
     * them ready. Blocking: call it on a blocking-I/O thread before connecting.
     */
    static void loadCrypto() throws GeneralSecurityException {
        for (String mac : List.of("HmacSHA256", "HmacSHA1")) {
            Mac.getInstance(mac);
        }
        MessageDigest.getInstance("SHA-256");
        SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
        new SecureRandom().nextBytes(new byte[32]);
    }

    /**
     * A one-line reason of a database error: the driver's message, or, when that only says it could
     * not connect, the network's reason (e.g. "Connection refused").
     */
    static String reason(Throwable e) {
        String first = null;
        String last = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && !m.isBlank() && !(t instanceof DatabaseUnavailable)) {
                first = first == null ? m : first;
                last = m;
            }
        }
        String m = first == null ? e.getClass().getSimpleName()
                : first.contains("Cannot connect to") && last != null ? last : first;
        // Netty's native transport says "finishConnect(..) failed with error(-111): Connection refused"
        return m.replaceFirst("^\\w+\\(\\.\\.\\) failed(?: with error\\(-?\\d+\\))?: ", "").replace('\n', ' ');
    }

    /** Closes the connections. Not blocking. */
    @Override
    public void close() {
        statements.close();
    }

    /** The database cannot be reached, or a connection to it broke. */
    static final class DatabaseUnavailable extends RuntimeException {
        DatabaseUnavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
