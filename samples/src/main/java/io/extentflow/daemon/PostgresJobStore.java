package io.extentflow.daemon;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r2dbc.postgresql.codec.Json;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The fleet's jobs in PostgreSQL, table {@code extentflow_jobs} (see {@code db/V1__jobs.sql}): the
 * {@link JobStore} of a daemon in fleet mode, plus what a fleet needs beyond it: claiming a job
 * under a lease, and reading or cancelling any daemon's job.
 *
 * <p>Each method is one SQL statement, atomic on its own. A running job's writes carry its
 * {@link Lease}: they change the row only while the job is running under that owner and generation,
 * and fail with {@link LeaseLost} otherwise, so a daemon that lost a job writes nothing to it.
 * Channel {@value #QUEUED} is notified of new jobs, {@value #CANCELLED} of cancelled ones (the
 * payload is the job's id).
 */
final class PostgresJobStore implements JobStore {

    /** Notified with a job id when a job is queued. */
    static final String QUEUED = "extentflow_job_queued";
    /** Notified with a job id when a job is cancelled. */
    static final String CANCELLED = "extentflow_job_cancelled";

    /** The advisory lock that makes claims under a per-host limit take turns across the fleet. */
    private static final long CLAIM_LOCK = 0x657866636c61696dL; // "exfclaim"

    private final Database db;
    private final Duration leaseTime;
    private final int maxPerSourceHost;
    /**
     * {@link #settle}'s statements with parameters ({@code $1} owner, {@code $2} final states,
     * {@code $3} claim count), without and with the claim: built once, not at every exchange (each a
     * 1.5 KB text that the driver also hashes to find its prepared statement). Null with claims under
     * a per-host limit, whose statement is sent as text ({@link #settle}).
     */
    private final String settleOnly;
    private final String settleClaiming;

    /**
     * @param maxPerSourceHost most jobs running at once, fleet-wide, that read from one network host
     *                         ({@link SourceHost}); 0 for no limit
     */
    PostgresJobStore(Database db, Duration leaseTime, int maxPerSourceHost) {
        this.db = db;
        this.leaseTime = leaseTime;
        this.maxPerSourceHost = maxPerSourceHost;
        this.settleOnly = settleSql("$1", "$2", false, "$3");
        this.settleClaiming = maxPerSourceHost > 0 ? null : settleSql("$1", "$2", true, "$3");
    }

    Database database() {
        return db;
    }

    /** A job this daemon claimed, and whether another daemon ran it until its lease expired. */
    record Claim(Job job, boolean takenOver, long seq) {
    }

    /** Nothing: in a fleet no daemon owns jobs at start; it claims them. */
    @Override
    public List<Job> restored() {
        return List.of();
    }

    @Override
    public Mono<Void> add(Job job) {
        String host = SourceHost.of(job.request.source());
        return db.update(Database.REQUEST_TIMEOUT, c -> {
            var insert = c.createStatement("WITH j AS (INSERT INTO extentflow_jobs (id, created, request, "
                            + "state, view, source_host) VALUES ($1, $2, $3, 'queued', $4, $5) RETURNING id) "
                            + "SELECT pg_notify('" + QUEUED + "', id) FROM j")
                    .bind("$1", job.id).bind("$2", job.created).bind("$3", json(job.request.json()))
                    .bind("$4", json(job.toJson()));
            return (host == null ? insert.bindNull("$5", String.class) : insert.bind("$5", host)).execute();
        }).then();
    }

    /**
     * Records a new job submitted to {@code owner}, a daemon with a free slot, and claims it for
     * {@code owner} in the same statement when no older job waits (none queued, no lease expired) and
     * no per-host limit applies: the job then starts without the notification's hop and a claim's round
     * trip. Emits the claim (generation 1), or empty when the job was queued (and the fleet notified)
     * like {@link #add}. Under a per-host limit it is always queued: the claim counts under the
     * limit's lock.
     */
    Mono<Claim> addClaimed(Job job, String owner) {
        if (maxPerSourceHost > 0) {
            return add(job).then(Mono.empty());
        }
        String host = SourceHost.of(job.request.source());
        // a request waits on it; the lease it may take is counted from before the statement was sent
        return db.execute(Database.REQUEST_TIMEOUT, c -> {
            var insert = c.createStatement("WITH free AS (SELECT NOT EXISTS (SELECT 1 FROM extentflow_jobs q "
                            + "WHERE q.state = 'queued' OR (q.state = 'running' AND q.lease_expires < now())) AS mine), "
                            + "j AS (INSERT INTO extentflow_jobs (id, created, request, state, view, source_host, owner, "
                            + "generation, claims, lease_expires) "
                            + "SELECT $1, $2, $3, CASE WHEN mine THEN 'running' ELSE 'queued' END, $4, $5, "
                            + "CASE WHEN mine THEN $6 END, CASE WHEN mine THEN 1 ELSE 0 END, "
                            + "CASE WHEN mine THEN 1 ELSE 0 END, "
                            + "CASE WHEN mine THEN now() + $7 * interval '1 millisecond' END FROM free "
                            + "RETURNING seq, state) "
                            + "SELECT seq, state, CASE WHEN state = 'queued' THEN pg_notify('" + QUEUED + "', $1) END "
                            + "AS notified FROM j")
                    .bind("$1", job.id).bind("$2", job.created).bind("$3", json(job.request.json()))
                    .bind("$4", json(job.toJson())).bind("$6", owner).bind("$7", leaseTime.toMillis());
            return (host == null ? insert.bindNull("$5", String.class) : insert.bind("$5", host)).execute()
                    .concatMap(r -> r.map((row, meta) -> "running".equals(row.get("state", String.class))
                            ? Optional.of(row.get("seq", Long.class)) : Optional.<Long>empty()));
        }).next().flatMap(Mono::justOrEmpty).map(seq -> {
            job.lease(new Lease(owner, 1));
            return new Claim(job, false, seq);
        });
    }

    /**
     * Claims up to {@code max} of the oldest jobs that are queued or whose lease expired, for
     * {@code owner}, in one statement: {@link #settle} with no final state to write.
     */
    Flux<Claim> claim(String owner, int max) {
        return settle(owner, List.of(), max).flatMapIterable(Settled::claims);
    }

    /** What {@link #settle} did: the jobs whose final state it wrote, and the jobs it claimed, oldest first. */
    record Settled(Set<String> finished, List<Claim> claims) {
    }

    /**
     * One exchange of a daemon with the queue, in one statement (one round trip, one commit): writes
     * the final state of the {@code finals} ({@code done} or {@code failed}, each only while the job
     * still runs under its lease: owner and generation, as {@link #saveState}; a job missing from
     * {@link Settled#finished()} was no longer this daemon's) and claims up to {@code max} of the oldest
     * jobs that are queued or whose lease expired: each comes back running under a new lease, at the
     * checkpoint its last owner recorded. {@code SKIP LOCKED}: daemons claiming at once take different
     * jobs without waiting. Under a per-host limit a job whose source host has no room left, counting
     * the jobs of its host this statement claims and not those it ends, is passed over for the next
     * ({@link #settleSql}).
     */
    Mono<Settled> settle(String owner, List<Job> finals, int max) {
        if (finals.isEmpty() && max <= 0) {
            return Mono.just(new Settled(Set.of(), List.of()));
        }
        boolean limited = maxPerSourceHost > 0 && max > 0;
        // Under a per-host limit, claims take turns: a claim counts the jobs running on each host,
        // and two claims counting at once could both see room for one more. The advisory lock and
        // the claim are two statements of one query message: PostgreSQL runs them as one implicit
        // transaction that holds the lock until its commit, and the claim, a statement after the
        // lock was granted, counts with a snapshot that sees every earlier claim's commit. A query
        // message of several statements carries no parameters: hence literals there. Otherwise the
        // statement takes parameters, so its text is one of two (claiming or not): the driver
        // prepares each once per connection and then sends only the values, and PostgreSQL no longer
        // parses and plans the statement at every exchange, as it did while the values were in its text.
        Function<PostgresqlConnection, Publisher<? extends Result>> statement = limited
                ? c -> c.createStatement("SELECT pg_advisory_xact_lock(" + CLAIM_LOCK + "); "
                        + settleSql(literal(owner), literal(finalsJson(finals)), true, Integer.toString(max))).execute()
                : c -> {
                    var st = c.createStatement(max > 0 ? settleClaiming : settleOnly).bind("$1", owner)
                            .bind("$2", Json.of(finalsJson(finals)));
                    return (max > 0 ? st.bind("$3", max) : st).execute();
                };
        return db.execute(c -> Flux.from(statement.apply(c))
                        // the advisory lock's result has no kind: skipped
                        .concatMap(r -> r.map((row, meta) -> limited && !meta.contains("kind") ? NOTHING
                                : outcome(row, owner))))
                .collectList()
                .map(PostgresJobStore::settled);
    }

    private static Settled settled(List<Outcome> outcomes) {
        Set<String> finished = new HashSet<>();
        List<Claim> claims = new ArrayList<>();
        for (Outcome o : outcomes) {
            if (o.finished() != null) {
                finished.add(o.finished());
            } else if (o.claimed() != null) {
                claims.add(o.claimed());
            }
        }
        claims.sort(Comparator.comparingLong(Claim::seq));
        return new Settled(finished, claims);
    }

    /** A row of {@link #settle}'s answer: a job whose final state was written, or a job claimed. */
    private record Outcome(String finished, Claim claimed) {
    }

    private static final Outcome NOTHING = new Outcome(null, null);

    /*
     * The columns of settle's answer, read by position: a lookup by name compares the name with every
     * column's, for every value of every row.
     */
    private static final int KIND = 0;
    private static final int ID = 1;
    private static final int SEQ = 2;
    private static final int CREATED_MICROS = 3;
    private static final int REQUEST = 4;
    private static final int GENERATION = 5;
    private static final int CHECKPOINT = 6;
    private static final int WAS = 7;

    private static Outcome outcome(Row row, String owner) {
        return "finished".equals(row.get(KIND, String.class)) ? new Outcome(row.get(ID, String.class), null)
                : new Outcome(null, claimOf(row, owner));
    }

    /**
     * The statement of {@link #settle}. The finals: an update of the rows named in a JSON array, each
     * under its owner and generation. The claim, without a per-host limit: the oldest claimable rows
     * (not one of the finals, whose lease may have run out), at most {@code max}, locked
     * ({@code SKIP LOCKED}: rows another claim holds are passed over). Under a limit, the rows are first
     * picked: each claimable row is numbered within its host in queue order, and one is taken while its
     * host's running jobs with a live lease (less the finals) plus its number stay within the limit, so
     * a claim counts the jobs of a host it takes itself; then the picked rows are locked. (PostgreSQL
     * allows no window function beside {@code FOR UPDATE}, hence the two steps; the numbering reads
     * every claimable row, which is what the limit costs.)
     */
    private String settleSql(String owner, String finalsJson, boolean claims, String max) {
        String claimable = "(q.state = 'queued' OR (q.state = 'running' AND q.lease_expires < now())) "
                + "AND q.id NOT IN (SELECT id FROM f)";
        String rows;
        if (!claims) {
            rows = "";
        } else if (maxPerSourceHost <= 0) {
            rows = "c AS (SELECT q.id, q.state AS was FROM extentflow_jobs q WHERE " + claimable + " "
                    + "ORDER BY q.seq LIMIT " + max + " FOR UPDATE SKIP LOCKED), ";
        } else {
            rows = "busy AS (SELECT source_host, count(*) AS n FROM extentflow_jobs r WHERE r.state = 'running' "
                    + "AND r.lease_expires >= now() AND r.source_host IS NOT NULL AND NOT (r.owner = " + owner
                    + " AND (r.id, r.generation) IN (SELECT id, generation FROM f)) GROUP BY source_host), "
                    + "numbered AS (SELECT q.id, q.seq, q.source_host, "
                    + "row_number() OVER (PARTITION BY q.source_host ORDER BY q.seq) AS nth "
                    + "FROM extentflow_jobs q WHERE " + claimable + "), "
                    + "picked AS (SELECT p.id FROM numbered p LEFT JOIN busy b ON b.source_host = p.source_host "
                    + "WHERE p.source_host IS NULL OR coalesce(b.n, 0) + p.nth <= " + maxPerSourceHost + " "
                    + "ORDER BY p.seq LIMIT " + max + "), "
                    + "c AS (SELECT q.id, q.state AS was FROM extentflow_jobs q "
                    + "WHERE q.id IN (SELECT id FROM picked) AND " + claimable + " FOR UPDATE SKIP LOCKED), ";
        }
        String claimed = !claims ? ""
                : "claimed AS (UPDATE extentflow_jobs j SET state = 'running', owner = " + owner + ", "
                        + "generation = j.generation + 1, claims = j.claims + 1, updated = now(), "
                        + "lease_expires = now() + " + leaseTime.toMillis() + " * interval '1 millisecond' "
                        + "FROM c WHERE j.id = c.id "
                        + "RETURNING j.id, j.seq, j.created, j.request, j.generation, j.checkpoint, c.was), ";
        return "WITH f AS (SELECT * FROM jsonb_to_recordset(" + finalsJson + "::jsonb) "
                + "AS f(id text, generation bigint, state text, view jsonb)), "
                + rows + claimed
                + "fin AS (UPDATE extentflow_jobs j SET state = f.state, view = f.view, updated = now(), "
                + "finished_by = j.owner, lease_expires = NULL "
                + "FROM f WHERE j.id = f.id AND j.owner = " + owner + " AND j.generation = f.generation "
                + "AND j.state = 'running' RETURNING j.id) "
                // created in microseconds since the epoch: the driver reads a timestamp's text with a
                // DateTimeFormatter, several times the work of a number (and more code for the JIT)
                + (!claims ? "" : "SELECT 'claimed' AS kind, id, seq, "
                        + "(extract(epoch FROM created) * 1000000)::int8 AS created_micros, request, generation, "
                        + "checkpoint, was FROM claimed UNION ALL ")
                + "SELECT 'finished' AS kind, id, NULL, NULL, NULL, NULL, NULL, NULL FROM fin";
    }

    /** The final states as a JSON array of {id, generation, state, view}. */
    private static String finalsJson(List<Job> finals) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (Job j : finals) {
            a.addObject().put("id", j.id).put("generation", j.lease().generation()).put("state", j.state().wire())
                    .set("view", j.toJson());
        }
        return a.toString();
    }

    /**
     * {@code s} as an SQL string literal: an escape string ({@code E'...'}), whose meaning does not
     * depend on the server's {@code standard_conforming_strings}.
     */
    private static String literal(String s) {
        return "E'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static Claim claimOf(Row row, String owner) {
        String id = row.get(ID, String.class);
        ObjectNode json = parse(row.get(REQUEST, String.class));
        JobRequest request;
        String problem = null;
        try {
            request = JobRequest.parse(json);
        } catch (BadRequest e) {
            // e.g. an endpoint kind this daemon does not have: the job fails, saying why
            problem = "cannot run job here: " + e.getMessage();
            request = new JobRequest(json.path("source").asText(), json.path("target").asText(), null, null, json);
        }
        long micros = row.get(CREATED_MICROS, Long.class);
        Instant created = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000),
                Math.floorMod(micros, 1_000_000) * 1000L);
        Job job = new Job(id, request, created);
        job.resumeFrom(row.get(CHECKPOINT, Long.class));
        if (problem != null) {
            job.failed(problem);
        }
        job.lease(new Lease(owner, row.get(GENERATION, Long.class)));
        return new Claim(job, "running".equals(row.get(WAS, String.class)), row.get(SEQ, Long.class));
    }

    /** Records the job's state (a final one ends the lease); {@link LeaseLost} unless still the owner's. */
    @Override
    public Mono<Void> saveState(Job job) {
        Lease lease = job.lease();
        boolean terminal = job.state().terminal();
        return db.update(c -> c.createStatement("UPDATE extentflow_jobs SET state = $1, view = $2, updated = now(), "
                                + "finished_by = CASE WHEN $3 THEN owner END, "
                                + "lease_expires = CASE WHEN $3 THEN NULL ELSE lease_expires END "
                                + "WHERE id = $4 AND owner = $5 AND generation = $6 AND state = 'running'")
                        .bind("$1", job.state().wire()).bind("$2", json(job.toJson())).bind("$3", terminal)
                        .bind("$4", job.id).bind("$5", lease.owner()).bind("$6", lease.generation()).execute())
                .flatMap(rows -> leaseHeld(job, rows));
    }

    /**
     * Renews the job's lease and records its checkpoint and progress, in one statement;
     * {@link LeaseLost} unless the job is still running under this lease.
     */
    @Override
    public Mono<Void> saveCheckpoint(Job job, long offset) {
        Lease lease = job.lease();
        ObjectNode view = job.toJson().put("checkpoint", offset);
        return db.update(c -> c.createStatement("UPDATE extentflow_jobs SET checkpoint = GREATEST(checkpoint, $1), "
                                + "view = $2, updated = now(), "
                                + "lease_expires = now() + $3 * interval '1 millisecond' "
                                + "WHERE id = $4 AND owner = $5 AND generation = $6 AND state = 'running'")
                        .bind("$1", offset).bind("$2", json(view)).bind("$3", leaseTime.toMillis())
                        .bind("$4", job.id).bind("$5", lease.owner()).bind("$6", lease.generation()).execute())
                .flatMap(rows -> leaseHeld(job, rows));
    }

    /**
     * Renews the job's lease alone (no checkpoint: the copy has none to record, or its flush is slow);
     * {@link LeaseLost} unless the job is still running under this lease.
     */
    Mono<Void> renewLease(Job job) {
        Lease lease = job.lease();
        return db.update(c -> c.createStatement("UPDATE extentflow_jobs SET updated = now(), "
                                + "lease_expires = now() + $1 * interval '1 millisecond' "
                                + "WHERE id = $2 AND owner = $3 AND generation = $4 AND state = 'running'")
                        .bind("$1", leaseTime.toMillis()).bind("$2", job.id).bind("$3", lease.owner())
                        .bind("$4", lease.generation()).execute())
                .flatMap(rows -> leaseHeld(job, rows));
    }

    /**
     * The answer to an update of a running job's row under its lease: one row changed, or none because
     * the lease is no longer this daemon's ({@link LeaseLost}).
     */
    private static Mono<Void> leaseHeld(Job job, long rows) {
        return rows == 1 ? Mono.empty()
                : Mono.error(new LeaseLost(job.id, "another daemon took it, or it was cancelled"));
    }

    /**
     * Gives a job back to the queue at its checkpoint (a daemon stopping gracefully), so that another
     * daemon takes it at once instead of after its lease expired. Nothing when the lease was lost.
     */
    Mono<Void> release(Job job) {
        Lease lease = job.lease();
        return db.update(c -> c.createStatement("UPDATE extentflow_jobs SET state = 'queued', owner = NULL, "
                                + "lease_expires = NULL, updated = now(), "
                                + "view = jsonb_set(view, '{state}', '\"queued\"') "
                                + "WHERE id = $1 AND owner = $2 AND generation = $3 AND state = 'running'")
                        .bind("$1", job.id).bind("$2", lease.owner()).bind("$3", lease.generation()).execute())
                .then();
    }

    /**
     * Cancels a queued or running job, whichever daemon runs it (told through {@value #CANCELLED});
     * emits the job as it is then, empty when there is no such job.
     */
    Mono<ObjectNode> cancel(String id) {
        return db.update(Database.REQUEST_TIMEOUT, c -> c.createStatement("WITH j AS (UPDATE extentflow_jobs SET state = 'cancelled', "
                                + "lease_expires = NULL, updated = now(), "
                                + "view = jsonb_set(jsonb_set(view, '{state}', '\"cancelled\"'), '{finished}', "
                                + "to_jsonb($2::text)) "
                                + "WHERE id = $1 AND state IN ('queued', 'running') RETURNING id) "
                                + "SELECT pg_notify('" + CANCELLED + "', id) FROM j")
                        .bind("$1", id).bind("$2", Instant.now().toString()).execute())
                .then(view(id));
    }

    /** The job as the API shows it, as of its last write; empty when unknown. */
    Mono<ObjectNode> view(String id) {
        return db.execute(Database.REQUEST_TIMEOUT, c -> c.createStatement("SELECT state, owner, view FROM extentflow_jobs WHERE id = $1")
                        .bind("$1", id).execute()
                        .concatMap(r -> r.map((row, meta) -> viewOf(row))))
                .next();
    }

    /** Every job, oldest first. */
    Mono<List<ObjectNode>> list() {
        return db.execute(Database.REQUEST_TIMEOUT, c -> c.createStatement("SELECT state, owner, view FROM extentflow_jobs ORDER BY seq")
                        .execute()
                        .concatMap(r -> r.map((row, meta) -> viewOf(row))))
                .collectList();
    }

    /** The number of jobs in each state, fleet-wide. */
    Mono<Map<JobState, Long>> counts() {
        return db.execute(Database.REQUEST_TIMEOUT, c -> c.createStatement("SELECT state, count(*) AS n FROM extentflow_jobs GROUP BY state")
                        .execute()
                        .concatMap(r -> r.map((row, meta) -> Map.entry(JobState.ofWire(row.get("state", String.class)),
                                row.get("n", Long.class)))))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    private static ObjectNode viewOf(Row row) {
        ObjectNode o = parse(row.get("view", String.class));
        // the row's state is the truth: a claim or a cancel by another daemon changes it first
        o.put("state", row.get("state", String.class));
        String owner = row.get("owner", String.class);
        if (owner != null) {
            o.put("daemon", owner);
        }
        return o;
    }

    /** Old finished jobs stay in the table; an operator deletes them (docs/fleet.md). */
    @Override
    public Mono<Void> compactIfLarge(int jobCount, Supplier<List<Job>> keep) {
        return Mono.empty();
    }

    @Override
    public void close() {
        db.close();
    }

    private static Json json(ObjectNode o) {
        return Json.of(o.toString());
    }

    private static ObjectNode parse(String text) {
        try {
            return (ObjectNode) Journal.JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
