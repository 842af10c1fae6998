package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The fleet's job store on a real PostgreSQL: migrations run once, a claim takes the oldest job under
 * a lease, an expired lease lets another daemon take the job at its checkpoint, and the first
 * daemon's late writes are refused by the database (fencing by owner and generation).
 */
class PostgresJobStoreTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static Job job(String id) {
        return new Job(id, JobRequest.parse(JobsClient.JSON.createObjectNode().put("source", "/src-" + id + ".raw")
                .put("target", "/dst-" + id + ".raw")), Instant.now());
    }

    @Test
    void lateWritesOfADaemonWhoseLeaseWasTakenOverAreRefused() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            Database db = new Database(DatabaseConfig.parse(pg.address(), pg.password), Duration.ofSeconds(10));
            assertEquals(2, Migrations.apply(db).block(TIMEOUT));
            assertEquals(2, Migrations.apply(db).block(TIMEOUT), "a second start applies nothing again");
            assertEquals("1|V1__jobs.sql\n2|V2__source_host.sql", pg.query("SELECT version || '|' || name FROM "
                    + "extentflow_schema_version ORDER BY version"));

            PostgresJobStore store = new PostgresJobStore(db, Duration.ofMillis(300), 0);
            store.add(job("j1")).block(TIMEOUT);
            store.add(job("j2")).block(TIMEOUT);

            PostgresJobStore.Claim a = claimOne(store, "daemon-a");
            assertEquals("j1", a.job().id, "the oldest job first");
            assertEquals(new Lease("daemon-a", 1), a.job().lease());
            assertEquals(false, a.takenOver());
            store.saveCheckpoint(a.job(), 4096).block(TIMEOUT);
            PostgresJobStore.Claim other = claimOne(store, "daemon-b");
            assertEquals("j2", other.job().id, "a leased job is skipped");
            other.job().state(JobState.DONE);
            store.saveState(other.job()).block(TIMEOUT);

            // daemon-a stops renewing; once its lease expired daemon-b takes j1 at the checkpoint
            Await.until(TIMEOUT, "j1's lease to expire", () -> query(pg, "SELECT id FROM extentflow_jobs "
                    + "WHERE id = 'j1' AND lease_expires < now()").equals("j1"));
            PostgresJobStore.Claim b = claimOne(store, "daemon-b");
            assertEquals("j1", b.job().id);
            assertEquals(true, b.takenOver());
            assertEquals(4096, b.job().resumeFrom());
            assertEquals(new Lease("daemon-b", 2), b.job().lease());
            assertNull(claimOne(store, "daemon-c"), "nothing left to claim");

            // daemon-a wakes up: its checkpoint and its final state are refused, and change nothing
            assertThrows(LeaseLost.class, () -> store.saveCheckpoint(a.job(), 1 << 20).block(TIMEOUT));
            a.job().state(JobState.DONE);
            assertThrows(LeaseLost.class, () -> store.saveState(a.job()).block(TIMEOUT));
            assertEquals("running|daemon-b|2|4096", pg.query("SELECT state || '|' || owner || '|' || generation "
                    + "|| '|' || checkpoint FROM extentflow_jobs WHERE id = 'j1'"));

            store.saveCheckpoint(b.job(), 8192).block(TIMEOUT);
            b.job().state(JobState.DONE);
            store.saveState(b.job()).block(TIMEOUT);
            assertEquals("done|daemon-b|8192", pg.query("SELECT state || '|' || finished_by || '|' || checkpoint "
                    + "FROM extentflow_jobs WHERE id = 'j1'"));
            // one final state: a second one, or a cancel after it, is refused or changes nothing
            assertThrows(LeaseLost.class, () -> store.saveState(b.job()).block(TIMEOUT));
            assertEquals("done", store.cancel("j1").block(TIMEOUT).get("state").asText());
            assertNull(store.cancel("nonexistent").block(TIMEOUT));
            assertTrue(store.view("j1").block(TIMEOUT).get("daemon").asText().equals("daemon-b"));
            db.close();
        }
    }

    private static Job job(String id, String source) {
        return new Job(id, JobRequest.parse(JobsClient.JSON.createObjectNode().put("source", source)
                .put("target", "/dst-" + id + ".raw")), Instant.now());
    }

    @Test
    void aSourceHostAtItsLimitIsPassedOverForTheNextJob() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            Database db = new Database(DatabaseConfig.parse(pg.address(), pg.password), Duration.ofSeconds(10));
            Migrations.apply(db).block(TIMEOUT);
            PostgresJobStore store = new PostgresJobStore(db, Duration.ofSeconds(60), 1);
            store.add(job("n1", "nbd://Host-A:10809/disk1")).block(TIMEOUT);
            store.add(job("n2", "nbd://host-a/disk2")).block(TIMEOUT); // the same host:port
            store.add(job("h1", "http://host-a:80/images/t")).block(TIMEOUT); // another port: another host
            store.add(job("f1", "/src.raw")).block(TIMEOUT);
            assertEquals("host-a:10809,host-a:10809,host-a:80,", pg.query("SELECT string_agg(coalesce(source_host, ''), "
                    + "',' ORDER BY seq) FROM extentflow_jobs"));

            PostgresJobStore.Claim first = claimOne(store, "daemon-a");
            assertEquals("n1", first.job().id);
            assertEquals("h1", claimOne(store, "daemon-b").job().id, "n2 waits: its host is at its limit");
            assertEquals("f1", claimOne(store, "daemon-b").job().id);
            assertNull(claimOne(store, "daemon-c"));
            first.job().state(JobState.DONE);
            store.saveState(first.job()).block(TIMEOUT);
            assertEquals("n2", claimOne(store, "daemon-c").job().id, "room again once n1 ended");
            db.close();
        }
    }

    @Test
    void aBatchClaimTakesTheOldestJobsUpToTheFreeSlotsAndSkipsRowsLockedElsewhere() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            Database dbA = new Database(DatabaseConfig.parse(pg.address(), pg.password), Duration.ofSeconds(10));
            Database dbB = new Database(DatabaseConfig.parse(pg.address(), pg.password), Duration.ofSeconds(10));
            Migrations.apply(dbA).block(TIMEOUT);
            PostgresJobStore a = new PostgresJobStore(dbA, Duration.ofSeconds(60), 0);
            PostgresJobStore b = new PostgresJobStore(dbB, Duration.ofSeconds(60), 0);
            for (int i = 1; i <= 6; i++) {
                a.add(job("j" + i)).block(TIMEOUT);
            }
            // another connection holds j1 and j2 (as a claim in progress would): skipped, not waited for
            var holder = dbB.connect().block(TIMEOUT);
            Flux.from(holder.beginTransaction()).thenMany(holder.createStatement(
                            "SELECT id FROM extentflow_jobs WHERE id IN ('j1', 'j2') FOR UPDATE").execute()
                    .concatMap(r -> r.map((row, meta) -> row.get("id", String.class)))).blockLast(TIMEOUT);
            long before = dbA.roundTrips();
            List<PostgresJobStore.Claim> first = a.claim("daemon-a", 3).collectList().block(TIMEOUT);
            assertEquals(List.of("j3", "j4", "j5"), ids(first), "the oldest free rows, oldest first");
            assertEquals(1, dbA.roundTrips() - before, "one round trip for the batch");
            first.forEach(c -> assertEquals(new Lease("daemon-a", 1), c.job().lease()));
            Flux.from(holder.commitTransaction()).then(Mono.from(holder.close())).block(TIMEOUT);

            List<PostgresJobStore.Claim> rest = b.claim("daemon-b", 10).collectList().block(TIMEOUT);
            assertEquals(List.of("j1", "j2", "j6"), ids(rest), "fewer than asked for: the queue is empty");
            assertEquals(List.of(), a.claim("daemon-a", 5).collectList().block(TIMEOUT));
            assertEquals("running|3|daemon-a,running|3|daemon-b", pg.query("SELECT state || '|' || count(*) || '|' "
                    + "|| owner FROM extentflow_jobs GROUP BY state, owner ORDER BY owner").replace('\n', ','));

            // daemon-a stops renewing and its leases run out (set in the past here rather than waited for:
            // a short lease would also run out between the claims above on a slow machine): daemon-b
            // takes its three jobs over in one claim, under generation 2, and daemon-a's late writes to
            // each of them are refused
            pg.query("UPDATE extentflow_jobs SET lease_expires = now() - interval '1 second' WHERE owner = 'daemon-a'");
            List<PostgresJobStore.Claim> taken = b.claim("daemon-b", 5).collectList().block(TIMEOUT);
            assertEquals(List.of("j3", "j4", "j5"), ids(taken));
            taken.forEach(c -> {
                assertTrue(c.takenOver());
                assertEquals(new Lease("daemon-b", 2), c.job().lease());
            });
            for (PostgresJobStore.Claim stale : first) {
                assertThrows(LeaseLost.class, () -> a.saveCheckpoint(stale.job(), 4096).block(TIMEOUT));
                stale.job().state(JobState.DONE);
                assertThrows(LeaseLost.class, () -> a.saveState(stale.job()).block(TIMEOUT));
            }
            assertEquals("3|daemon-b|2|0", pg.query("SELECT count(*) || '|' || min(owner) || '|' || min(generation) "
                    + "|| '|' || max(checkpoint) FROM extentflow_jobs WHERE id IN ('j3', 'j4', 'j5') AND state = 'running'"));
            dbA.close();
            dbB.close();
        }
    }

    @Test
    void aBatchClaimUnderAPerHostLimitCountsTheJobsItClaimsItself() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            Database dbA = new Database(DatabaseConfig.parse(pg.address(), pg.password), Duration.ofSeconds(10));
            Database dbB = new Database(DatabaseConfig.parse(pg.address(), pg.password), Duration.ofSeconds(10));
            Migrations.apply(dbA).block(TIMEOUT);
            PostgresJobStore a = new PostgresJobStore(dbA, Duration.ofSeconds(60), 2);
            PostgresJobStore b = new PostgresJobStore(dbB, Duration.ofSeconds(60), 2);
            a.add(job("n1", "nbd://host-a/d1")).block(TIMEOUT);
            a.add(job("n2", "nbd://host-a/d2")).block(TIMEOUT);
            a.add(job("n3", "nbd://host-a/d3")).block(TIMEOUT);
            a.add(job("f1", "/src.raw")).block(TIMEOUT);
            a.add(job("h1", "http://host-b/t1")).block(TIMEOUT);
            a.add(job("n4", "nbd://host-a/d4")).block(TIMEOUT);
            a.add(job("h2", "http://host-b/t2")).block(TIMEOUT);
            a.add(job("h3", "http://host-b/t3")).block(TIMEOUT);

            long before = dbA.roundTrips();
            List<PostgresJobStore.Claim> first = a.claim("daemon-a", 4).collectList().block(TIMEOUT);
            assertEquals(List.of("n1", "n2", "f1", "h1"), ids(first), "n3 passed over: host-a has 2 in this claim");
            assertEquals(1, dbA.roundTrips() - before, "the lock and the claim go in one query message");
            // both daemons at once, each asking for everything: together they stay within the limit
            var both = Flux.merge(a.claim("daemon-a", 8), b.claim("daemon-b", 8)).collectList().block(TIMEOUT);
            assertEquals(List.of("h2"), ids(both), "host-b has room for one more, host-a for none");
            assertEquals("host-a:10809|2,host-b:80|2,|1", pg.query("SELECT coalesce(source_host, '') || '|' || count(*) "
                    + "FROM extentflow_jobs WHERE state = 'running' GROUP BY source_host ORDER BY source_host")
                    .replace('\n', ','));

            first.get(0).job().state(JobState.DONE);
            a.saveState(first.get(0).job()).block(TIMEOUT);
            assertEquals(List.of("n3"), ids(b.claim("daemon-b", 8).collectList().block(TIMEOUT)),
                    "room for one of host-a once n1 ended, the oldest");
            dbA.close();
            dbB.close();
        }
    }

    @Test
    void oneExchangeWritesFinalStatesUnderTheirLeasesAndFillsTheFreedSlots() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            Database db = new Database(DatabaseConfig.parse(pg.address(), pg.password), Duration.ofSeconds(10));
            Migrations.apply(db).block(TIMEOUT);
            PostgresJobStore store = new PostgresJobStore(db, Duration.ofSeconds(60), 1);
            store.add(job("n1", "nbd://host-a/d1")).block(TIMEOUT);
            store.add(job("f1", "/it's a file.raw")).block(TIMEOUT); // a quote in the request, as a literal
            store.add(job("n2", "nbd://host-a/d2")).block(TIMEOUT);
            store.add(job("f2", "/b.raw")).block(TIMEOUT);
            List<PostgresJobStore.Claim> first = store.claim("daemon-a", 2).collectList().block(TIMEOUT);
            assertEquals(List.of("n1", "f1"), ids(first));
            assertEquals("/it's a file.raw", first.get(1).job().request.source());

            // n1 ends here (failed, its error holding a quote and a backslash); f1's lease is stale
            // (as if another claim of it happened meanwhile)
            Job n1 = first.get(0).job();
            n1.failed("it's \\ over");
            n1.state(JobState.FAILED);
            Job f1 = first.get(1).job();
            f1.lease(new Lease("daemon-a", 0));
            f1.state(JobState.DONE);
            long before = db.roundTrips();
            PostgresJobStore.Settled settled = store.settle("daemon-a", List.of(n1, f1), 2).block(TIMEOUT);
            assertEquals(1, db.roundTrips() - before, "final states and claims in one round trip");
            assertEquals(Set.of("n1"), settled.finished(), "f1's stale generation is refused");
            assertEquals(List.of("n2", "f2"), ids(settled.claims()),
                    "n2 claimed as n1 ends: host-a's running job is the one this exchange ends");
            assertEquals("n1|failed|daemon-a|true,f1|running|-|false,n2|running|-|false,f2|running|-|false",
                    pg.query("SELECT id || '|' || state || '|' || coalesce(finished_by, '-') || '|' "
                            + "|| (lease_expires IS NULL) FROM extentflow_jobs ORDER BY seq").replace('\n', ','));
            assertEquals("it's \\ over", store.view("n1").block(TIMEOUT).get("error").asText());
            db.close();
        }
    }

    @Test
    void aJobSubmittedToADaemonWithAFreeSlotIsClaimedAsItIsRecordedUnlessOlderJobsWait() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            Database db = new Database(DatabaseConfig.parse(pg.address(), pg.password), Duration.ofSeconds(10));
            Migrations.apply(db).block(TIMEOUT);
            PostgresJobStore store = new PostgresJobStore(db, Duration.ofSeconds(60), 0);
            long before = db.roundTrips();
            PostgresJobStore.Claim mine = store.addClaimed(job("s1"), "daemon-a").block(TIMEOUT);
            assertEquals(1, db.roundTrips() - before, "recorded and claimed in one round trip");
            assertEquals(new Lease("daemon-a", 1), mine.job().lease());
            assertEquals("running|daemon-a|1|1|true", pg.query("SELECT state || '|' || owner || '|' || generation || '|' "
                    + "|| claims || '|' || (lease_expires > now()) FROM extentflow_jobs WHERE id = 's1'"));

            store.add(job("q1")).block(TIMEOUT); // queued: an older job waits
            assertNull(store.addClaimed(job("s2"), "daemon-a").block(TIMEOUT), "queued behind q1");
            assertEquals(List.of("q1", "s2"), ids(store.claim("daemon-b", 5).collectList().block(TIMEOUT)),
                    "s2 was queued, in order, for any daemon");

            // daemon-a's late write to s1 under a stale generation is refused as any other
            Job stale = job("s1");
            stale.lease(new Lease("daemon-a", 0));
            stale.state(JobState.DONE);
            assertThrows(LeaseLost.class, () -> store.saveState(stale).block(TIMEOUT));
            mine.job().state(JobState.DONE);
            assertEquals(Set.of("s1"), store.settle("daemon-a", List.of(mine.job()), 0).block(TIMEOUT).finished());
            db.close();
        }
    }

    @Test
    void exchangesArePreparedOnceAndThenSendOnlyTheirValues() throws Exception {
        try (PostgresServer pg = PostgresServer.start()) {
            // every statement in the server's log, with the name of the prepared statement it executes
            pg.query("ALTER DATABASE " + PostgresServer.DATABASE + " SET log_statement = 'all'");
            Database db = new Database(DatabaseConfig.parse(pg.address(), pg.password), Duration.ofSeconds(10));
            Migrations.apply(db).block(TIMEOUT);
            PostgresJobStore store = new PostgresJobStore(db, Duration.ofSeconds(60), 0);
            for (int i = 1; i <= 6; i++) {
                store.add(job("j" + i)).block(TIMEOUT);
            }
            // each exchange ends the job the one before claimed, and claims the next
            Job previous = null;
            for (int i = 1; i <= 6; i++) {
                PostgresJobStore.Settled settled = store.settle("daemon-a",
                        previous == null ? List.of() : List.of(previous), 1).block(TIMEOUT);
                assertEquals(previous == null ? Set.of() : Set.of(previous.id), settled.finished());
                assertEquals(List.of("j" + i), ids(settled.claims()));
                previous = settled.claims().get(0).job();
                // a value that would need escaping in a literal, and looks like a parameter
                previous.failed("it's \\ \"over\" at $1");
                previous.state(JobState.FAILED);
            }
            assertEquals(Set.of("j6"), store.settle("daemon-a", List.of(previous), 0).block(TIMEOUT).finished());
            assertEquals("it's \\ \"over\" at $1", store.view("j6").block(TIMEOUT).get("error").asText());
            assertEquals("failed|daemon-a", pg.query("SELECT DISTINCT state || '|' || finished_by FROM extentflow_jobs"));

            List<String> exchanges = pg.log().lines().filter(l -> l.contains("jsonb_to_recordset")).toList();
            assertEquals(7, exchanges.size(), pg.log());
            // "execute S_1/B_3: WITH ...": prepared statement S_1 bound into portal B_3; a statement sent
            // as text would be logged as "statement: WITH ..."
            List<String> names = exchanges.stream()
                    .map(l -> l.replaceFirst("^.*LOG:  execute ([^/: ]+)(/[^: ]+)?: WITH .*$", "$1")).toList();
            assertTrue(names.stream().noneMatch(n -> n.contains(" ") || n.equals("<unnamed>")),
                    "executed as named prepared statements, not sent as text: " + exchanges);
            assertEquals(1, names.subList(0, 6).stream().distinct().count(), "the claiming exchanges: one statement "
                    + names);
            assertTrue(!names.get(6).equals(names.get(0)), "the exchange that only ends a job: another " + names);
            db.close();
        }
    }

    private static List<String> ids(List<PostgresJobStore.Claim> claims) {
        return claims.stream().map(c -> c.job().id).toList();
    }

    private static PostgresJobStore.Claim claimOne(PostgresJobStore store, String owner) {
        return store.claim(owner, 1).next().block(TIMEOUT);
    }

    private static String query(PostgresServer pg, String sql) {
        try {
            return pg.query(sql);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
