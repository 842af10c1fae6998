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
import org.junit.jupiter.api.Test;

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

            PostgresJobStore.Claim a = store.claim("daemon-a").block(TIMEOUT);
            assertEquals("j1", a.job().id, "the oldest job first");
            assertEquals(new Lease("daemon-a", 1), a.job().lease());
            assertEquals(false, a.takenOver());
            store.saveCheckpoint(a.job(), 4096).block(TIMEOUT);
            PostgresJobStore.Claim other = store.claim("daemon-b").block(TIMEOUT);
            assertEquals("j2", other.job().id, "a leased job is skipped");
            other.job().state(JobState.DONE);
            store.saveState(other.job()).block(TIMEOUT);

            // daemon-a stops renewing; once its lease expired daemon-b takes j1 at the checkpoint
            Await.until(TIMEOUT, "j1's lease to expire", () -> query(pg, "SELECT id FROM extentflow_jobs "
                    + "WHERE id = 'j1' AND lease_expires < now()").equals("j1"));
            PostgresJobStore.Claim b = store.claim("daemon-b").block(TIMEOUT);
            assertEquals("j1", b.job().id);
            assertEquals(true, b.takenOver());
            assertEquals(4096, b.job().resumeFrom());
            assertEquals(new Lease("daemon-b", 2), b.job().lease());
            assertNull(store.claim("daemon-c").block(TIMEOUT), "nothing left to claim");

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

            PostgresJobStore.Claim first = store.claim("daemon-a").block(TIMEOUT);
            assertEquals("n1", first.job().id);
            assertEquals("h1", store.claim("daemon-b").block(TIMEOUT).job().id, "n2 waits: its host is at its limit");
            assertEquals("f1", store.claim("daemon-b").block(TIMEOUT).job().id);
            assertNull(store.claim("daemon-c").block(TIMEOUT));
            first.job().state(JobState.DONE);
            store.saveState(first.job()).block(TIMEOUT);
            assertEquals("n2", store.claim("daemon-c").block(TIMEOUT).job().id, "room again once n1 ended");
            db.close();
        }
    }

    private static String query(PostgresServer pg, String sql) {
        try {
            return pg.query(sql);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
