package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.imageio.Ticket;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.server.ImageServer;
import io.extentflow.server.ServerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A fleet of copy daemons (separate processes) on one real PostgreSQL: jobs of every kind of source
 * finish whole when a daemon dies, a paused daemon's late writes are fenced off, the database may
 * restart under running jobs, and a cancel reaches the daemon that runs the job.
 */
@ExtendWith(NettyLeaks.class)
class FleetTest {

    private static final Duration FINISH = Duration.ofMinutes(5);

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    /** Options that make an NBD copy slow (small requests, few in flight) against a delayed server. */
    private static ObjectNode slowly() {
        return JobsClient.JSON.createObjectNode().put("request_size", 256 << 10).put("max_in_flight", 512 << 10);
    }

    @Test
    void killedDaemonsJobsFinishOnTheOthersFromTheirCheckpoints() throws Exception {
        // sources: a large sparse image over NBD, and file, NBD (nbdkit with delays, qemu-nbd) and HTTP images
        Path big = dir.resolve("big.raw");
        TestImages.randomSparseRaw(big, 1536L << 20, 1, 20, 4 << 20);
        // served with a delay per read: ~300 MiB of data take seconds to copy however fast the machine
        String bigSource = servers.nbdkit(dir, "--filter=delay", "file", big.toString(), "rdelay=10ms").uri();
        Map<String, Path> targets = new HashMap<>(); // target -> its source file
        List<String[]> jobs = new ArrayList<>(); // source address, target, slow?
        jobs.add(new String[] {bigSource, dir.resolve("big-copy.raw").toString(), "slow"});
        targets.put(dir.resolve("big-copy.raw").toString(), big);
        ImageServer http = ImageServer.start(ServerConfig.defaults().withPort(0)
                .withControlSocket(dir.resolve("http-ctl.sock")), new SimpleMeterRegistry(), null).block();
        try {
            for (int i = 0; i < 29; i++) {
                Path src = dir.resolve("src-" + i + ".raw");
                TestImages.randomSparseRaw(src, 16L << 20, 100 + i, 60, 1 << 20);
                String address = switch (i % 4) {
                    case 0 -> servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "rdelay=40ms").uri();
                    case 1 -> servers.qemuNbd(dir, "-r", "-f", "raw", src.toString()).uri();
                    case 2 -> {
                        String id = "t" + i;
                        http.tickets().put(new Ticket(id, 16L << 20, "file://" + src, Set.of("read"), 600, 600,
                                false, "transfer-" + id, null));
                        yield http.imageUrl(id);
                    }
                    default -> src.toString();
                };
                String dst = dir.resolve("dst-" + i + ".raw").toString();
                jobs.add(new String[] {address, dst, i % 4 == 0 ? "slow" : ""});
                targets.put(dst, src);
            }

            try (Fleet fleet = Fleet.start(dir, 3, "--max-jobs", "3", "--checkpoint-interval", "200ms",
                    "--lease-time", "3s")) {
                JobsClient first = fleet.client(0);
                for (String[] j : jobs) {
                    first.submit(j[0], j[1], j[2].isEmpty() ? null : slowly());
                }
                // kill the daemon copying the large image once it has a durable checkpoint, mid-copy
                String bigJob = fleet.pg.query("SELECT id FROM extentflow_jobs WHERE request->>'source' = '" + bigSource
                        + "'");
                String victim = null;
                DaemonProcess killed = null;
                List<String> orphans = List.of();
                for (int attempt = 1; killed == null; attempt++) {
                    String owner = fleet.awaitQuery(Duration.ofMinutes(2), "the large copy's checkpoint",
                            "SELECT owner FROM extentflow_jobs WHERE id = '" + bigJob + "' AND state = 'running' "
                                    + "AND checkpoint > 0 AND checkpoint < " + (1536L << 20));
                    DaemonProcess held = fleet.byOwner(owner);
                    held.signal("STOP");
                    // its jobs as it left them: a stopped daemon writes nothing, and only the end of
                    // its leases lets another daemon change them
                    orphans = List.of(fleet.pg.query("SELECT id FROM extentflow_jobs WHERE state = "
                            + "'running' AND checkpoint > 0 AND owner = '" + owner + "'").split("\n"));
                    if (orphans.contains(bigJob)) {
                        held.kill();
                        killed = held;
                        victim = owner;
                    } else {
                        // on a busy machine its lease ran out before the stop and another daemon took
                        // the large job: let it go on and stop the new owner instead
                        held.signal("CONT");
                        assertTrue(attempt < 5, "the large job kept moving between daemons: " + orphans);
                    }
                }
                DaemonProcess dead = killed;
                assertTrue(!orphans.getFirst().isEmpty(), "the killed daemon ran a job with a checkpoint");

                JobsClient survivor = new JobsClient(fleet.daemons.stream().filter(d -> d != dead)
                        .findFirst().orElseThrow().port);
                List<JsonNode> finished = fleet.awaitJobs(survivor, FINISH, "every job to finish",
                        l -> Fleet.allFinished(l, jobs.size()));
                for (JsonNode j : finished) {
                    assertEquals("done", j.get("state").asText(), j.toString());
                    TestImages.assertSameContent(targets.get(j.get("target").asText()),
                            Path.of(j.get("target").asText()));
                }
                for (String id : orphans) {
                    JsonNode j = survivor.job(id);
                    assertTrue(j.get("resumed_bytes").asLong() > 0, "resumed from its checkpoint: " + j);
                    String row = fleet.pg.query("SELECT finished_by || '|' || generation FROM extentflow_jobs "
                            + "WHERE id = '" + id + "'");
                    assertNotEquals(victim, row.split("\\|")[0], "finished by another daemon: " + row);
                    assertTrue(Long.parseLong(row.split("\\|")[1]) >= 2, "claimed again: " + row);
                }
                long takeovers = 0;
                for (DaemonProcess d : fleet.daemons) {
                    if (d != dead) {
                        takeovers += counter(new JobsClient(d.port).metrics(), "extentflow_daemon_fleet_takeovers_total");
                    }
                }
                assertTrue(takeovers >= orphans.size(), takeovers + " takeovers for " + orphans);
                System.out.println("killed " + victim + " running " + orphans.size() + " job(s) with checkpoints; "
                        + "resumed elsewhere at " + orphans.stream().map(id -> survivor.job(id).get("resumed_bytes")
                                .asText()).toList() + " bytes; " + takeovers + " takeover(s)");
            }
        } finally {
            http.shutdown(Duration.ofSeconds(5)).block();
        }
    }

    @Test
    void pausedDaemonsLateWritesAreFencedOff() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 24L << 20, 7, 100, 1 << 20);
        var slow = servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "rdelay=60ms");
        Path dst = dir.resolve("dst.raw");
        try (Fleet fleet = Fleet.start(dir, 0, "--max-jobs", "1", "--checkpoint-interval", "200ms")) {
            // a short lease for the daemon that is paused, so that it lapses while it is stopped; a long
            // one for the daemon that takes over, so that no stall of a busy machine hands the job on
            // a third time (generation 3) before the assertions below. The other daemon is held
            // (SIGSTOP) until the first one runs the job, so the job starts where the short lease is.
            DaemonProcess paused = fleet.startDaemon("--lease-time", "2s");
            DaemonProcess other = fleet.startDaemon("--lease-time", "60s");
            other.signal("STOP");
            String id;
            String first;
            try {
                id = fleet.client(0).submit(slow.uri(), dst.toString(), slowly());
                first = fleet.awaitQuery(Duration.ofMinutes(1), "the job running with a checkpoint",
                        "SELECT owner FROM extentflow_jobs WHERE id = '" + id + "' AND state = 'running' AND checkpoint > 0");
            } finally {
                other.signal("CONT");
            }
            assertEquals(paused, fleet.byOwner(first));
            paused.signal("STOP");
            try {
                // the lease expires and the other daemon takes the job over
                fleet.awaitQuery(Duration.ofMinutes(1), "the job to move to the other daemon",
                        "SELECT owner FROM extentflow_jobs WHERE id = '" + id + "' AND owner <> '" + first + "'");
            } finally {
                paused.signal("CONT");
            }
            JobsClient client = new JobsClient(other.port);
            JsonNode done = fleet.awaitJobs(client, FINISH, "the job to finish", l -> Fleet.allFinished(l, 1))
                    .getFirst();
            assertEquals("done", done.get("state").asText(), done.toString());
            assertTrue(done.get("resumed_bytes").asLong() > 0, done.toString());
            // the woken daemon found its lease gone and stopped without writing (its copy's late bytes
            // are the source's own bytes, so the target stays whole)
            JobsClient woken = new JobsClient(paused.port);
            fleet.awaitJobs(woken, Duration.ofMinutes(1), "the woken daemon to drop the job",
                    l -> counter(woken.metrics(), "extentflow_daemon_fleet_lease_lost_total") >= 1
                            && counter(woken.metrics(), "extentflow_daemon_fleet_running") == 0);
            String row = fleet.pg.query("SELECT state || '|' || finished_by || '|' || generation FROM "
                    + "extentflow_jobs WHERE id = '" + id + "'");
            assertEquals("done|" + done.get("daemon").asText() + "|2", row);
            assertNotEquals(first, done.get("daemon").asText());
            assertEquals("done", woken.job(id).get("state").asText(), "the woken daemon shows the final state");
            TestImages.assertSameContent(src, dst);
        }
    }

    @Test
    void gracefullyStoppedDaemonGivesItsJobBackAtOnce() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 24L << 20, 8, 100, 1 << 20);
        var slow = servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "rdelay=60ms");
        Path dst = dir.resolve("dst.raw");
        // a lease far longer than the test waits: only the hand-back can move the job in time
        try (Fleet fleet = Fleet.start(dir, 2, "--max-jobs", "1", "--checkpoint-interval", "200ms",
                "--lease-time", "120s")) {
            String id = fleet.client(0).submit(slow.uri(), dst.toString(), slowly());
            String first = fleet.awaitQuery(Duration.ofMinutes(1), "the job running with a checkpoint",
                    "SELECT owner FROM extentflow_jobs WHERE id = '" + id + "' AND state = 'running' AND checkpoint > 0");
            DaemonProcess stopping = fleet.byOwner(first);
            DaemonProcess other = fleet.daemons.stream().filter(d -> d != stopping).findFirst().orElseThrow();
            stopping.close(); // SIGTERM
            JobsClient client = new JobsClient(other.port);
            JsonNode done = fleet.awaitJobs(client, Duration.ofSeconds(60), "the job to finish on the other daemon",
                    l -> Fleet.allFinished(l, 1)).getFirst();
            assertEquals("done", done.get("state").asText(), done + "\nnbdkit " + (slow.isAlive() ? "running"
                    : "gone") + ", its log:\n" + slow.log() + "\nthe stopped daemon's log:\n" + stopping.log());
            assertNotEquals(first, done.get("daemon").asText());
            assertTrue(done.get("resumed_bytes").asLong() > 0, done.toString());
            TestImages.assertSameContent(src, dst);
        }
    }

    @Test
    void aJobClaimedAheadIsGivenBackWhileItsSlotStaysBusy() throws Exception {
        Path empty = dir.resolve("empty.raw");
        TestImages.randomSparseRaw(empty, 1 << 20, 41, 0, 64 << 10);
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 24L << 20, 42, 100, 1 << 20);
        var slow = servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "rdelay=200ms");
        // a lease of 8 s: the poll interval (and the longest a job claimed ahead waits) is 1 s
        try (Fleet fleet = Fleet.start(dir, 2, "--max-jobs", "1", "--checkpoint-interval", "200ms",
                "--lease-time", "8s")) {
            JobsClient a = fleet.client(0);
            // short jobs first (the second one in a warm daemon): daemon 0 then claims ahead; then a
            // long one in its only slot
            for (int i = 0; i < 2; i++) {
                String shortJob = a.submit(empty.toString(), dir.resolve("short-" + i + ".raw").toString(), null);
                fleet.awaitJobs(a, FINISH, "a short job", l -> l.stream().anyMatch(j -> j.get("id").asText()
                        .equals(shortJob) && j.get("state").asText().equals("done")));
            }
            String longJob = a.submit(slow.uri(), dir.resolve("long.raw").toString(), slowly());
            fleet.awaitJobs(a, FINISH, "the long job to run on daemon 0",
                    l -> "running".equals(a.job(longJob).path("state").asText()));
            String next = a.submit(empty.toString(), dir.resolve("next.raw").toString(), null);
            // claimed ahead by daemon 0 (its fourth claim), given back once it waited a poll interval,
            // and run by the idle daemon 1 while daemon 0's slot is still busy
            List<JsonNode> done = fleet.awaitJobs(a, FINISH, "the next job to finish",
                    l -> l.stream().anyMatch(j -> j.get("id").asText().equals(next)
                            && !j.get("state").asText().equals("queued") && !j.get("state").asText().equals("running")));
            JsonNode nextJob = done.stream().filter(j -> j.get("id").asText().equals(next)).findFirst().orElseThrow();
            assertEquals("done", nextJob.get("state").asText(), nextJob.toString());
            assertEquals(4, counter(a.metrics(), "extentflow_daemon_fleet_claims_total"), "daemon 0 claimed ahead");
            assertNotEquals(a.job(longJob).get("daemon").asText(), nextJob.get("daemon").asText(),
                    "the other daemon ran it");
            assertEquals("running", a.job(longJob).get("state").asText(), "daemon 0's slot was still busy");
            TestImages.assertSameContent(empty, dir.resolve("next.raw"));
        }
    }

    @Test
    void manyShortJobsDrainAndAStoppedDaemonGivesBackWhatItClaimedAhead() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 1 << 20, 43, 20, 64 << 10);
        int count = 80;
        // a lease far longer than the test waits: only the hand-back at the stop can move a job in time
        try (Fleet fleet = Fleet.start(dir, 2, "--max-jobs", "2", "--lease-time", "120s")) {
            JobsClient a = fleet.client(0);
            for (int i = 0; i < count; i++) {
                a.submit(src.toString(), dir.resolve("dst-" + i + ".raw").toString(), null);
            }
            // short jobs: daemon 0 holds jobs claimed ahead of its 2 slots (as many as its exchanges'
            // time calls for) when it is stopped part way
            fleet.awaitQuery(FINISH, "a quarter of the jobs done",
                    "SELECT 1 WHERE (SELECT count(*) FROM extentflow_jobs WHERE state = 'done') >= " + count / 4);
            fleet.daemons.getFirst().close(); // SIGTERM
            List<JsonNode> jobs = fleet.awaitJobs(fleet.client(1), Duration.ofSeconds(90), "every job to finish",
                    l -> Fleet.allFinished(l, count));
            for (JsonNode j : jobs) {
                assertEquals("done", j.get("state").asText(), j.toString());
                TestImages.assertSameContent(src, Path.of(j.get("target").asText()));
            }
            // each final state written once, by the daemon that held the job's lease then
            assertEquals("0", fleet.pg.query("SELECT count(*) FROM extentflow_jobs WHERE state <> 'done' "
                    + "OR finished_by IS NULL OR lease_expires IS NOT NULL"));
        }
    }

    @Test
    void aJobWhoseSourceIsSlowToOpenKeepsItsLeaseByHeartbeats() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 1 << 20, 44, 20, 64 << 10);
        // each connection to the source opens after 4 s, twice the lease time: no checkpoint renews the
        // lease before the copy starts, only the daemon's heartbeats
        var slow = servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "delay-open=4");
        try (Fleet fleet = Fleet.start(dir, 2, "--checkpoint-interval", "200ms", "--lease-time", "2s")) {
            JobsClient client = fleet.client(0);
            client.submit(slow.uri(), dir.resolve("dst.raw").toString(), null);
            List<JsonNode> jobs = fleet.awaitJobs(client, FINISH, "the job to finish", l -> Fleet.allFinished(l, 1));
            assertEquals("done", jobs.getFirst().get("state").asText(), jobs.toString());
            TestImages.assertSameContent(src, dir.resolve("dst.raw"));
            // claimed once: its lease never ran out, and no other daemon took the job over
            assertEquals("1|1|0", fleet.pg.query("SELECT claims || '|' || generation || '|' || "
                    + "(SELECT count(*) FROM extentflow_jobs WHERE claims > 1) FROM extentflow_jobs"));
        }
    }

    @Test
    void aSourceHostLimitHoldsAcrossTheFleet() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 8L << 20, 12, 100, 1 << 20);
        var slow = servers.nbdkitTcp(dir, "--filter=delay", "file", src.toString(), "rdelay=20ms");
        Path local = dir.resolve("local.raw");
        TestImages.randomSparseRaw(local, 8L << 20, 13, 100, 1 << 20);
        try (Fleet fleet = Fleet.start(dir, 2, "--max-jobs", "3", "--checkpoint-interval", "200ms",
                "--max-jobs-per-source-host", "1")) {
            JobsClient client = fleet.client(0);
            for (int i = 0; i < 4; i++) {
                client.submit(slow.uri(), dir.resolve("nbd-" + i + ".raw").toString(), slowly());
            }
            client.submit(local.toString(), dir.resolve("local-copy.raw").toString(), null);
            List<JsonNode> jobs = fleet.awaitJobs(client, FINISH, "every job to finish", l -> Fleet.allFinished(l, 5));
            // one NBD job at a time in the whole fleet: each started after the previous one finished
            List<JsonNode> nbd = jobs.stream().filter(j -> j.get("source").asText().startsWith("nbd:"))
                    .sorted(Comparator.comparing(j -> Instant.parse(j.get("started").asText())))
                    .toList();
            for (int i = 1; i < nbd.size(); i++) {
                var before = Instant.parse(nbd.get(i - 1).get("finished").asText());
                var started = Instant.parse(nbd.get(i).get("started").asText());
                assertTrue(!started.isBefore(before), "overlapping NBD jobs: " + nbd.get(i - 1) + " and " + nbd.get(i));
            }
            // the local job did not wait behind the NBD host's queue
            JsonNode localJob = jobs.stream().filter(j -> !j.get("source").asText().startsWith("nbd:")).findFirst()
                    .orElseThrow();
            assertTrue(Instant.parse(localJob.get("finished").asText())
                    .isBefore(Instant.parse(nbd.getLast().get("started").asText())), jobs.toString());
            for (JsonNode j : jobs) {
                assertEquals("done", j.get("state").asText(), j.toString());
            }
            for (int i = 0; i < 4; i++) {
                TestImages.assertSameContent(src, dir.resolve("nbd-" + i + ".raw"));
            }
            TestImages.assertSameContent(local, dir.resolve("local-copy.raw"));
        }
    }

    @Test
    void jobsGoOnWhenTheDatabaseRestarts() throws Exception {
        List<Path> sources = new ArrayList<>();
        try (Fleet fleet = Fleet.start(dir, 2, "--max-jobs", "2", "--checkpoint-interval", "200ms",
                "--lease-time", "4s")) {
            JobsClient client = fleet.client(0);
            for (int i = 0; i < 6; i++) {
                Path src = dir.resolve("src-" + i + ".raw");
                TestImages.randomSparseRaw(src, 16L << 20, 40 + i, 80, 1 << 20);
                sources.add(src);
                var slow = servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "rdelay=40ms");
                client.submit(slow.uri(), dir.resolve("dst-" + i + ".raw").toString(), slowly());
            }
            fleet.awaitQuery(Duration.ofMinutes(1), "a running job with a checkpoint",
                    "SELECT id FROM extentflow_jobs WHERE state = 'running' AND checkpoint > 0 LIMIT 1");
            fleet.pg.stop();
            // a daemon notices: a renewal fails while the database is down
            awaitMetric(fleet, "extentflow_daemon_fleet_lease_renew_failures_total");
            fleet.pg.startServer();

            List<JsonNode> finished = fleet.awaitJobs(fleet.client(1), FINISH, "every job to finish",
                    l -> Fleet.allFinished(l, sources.size()));
            for (JsonNode j : finished) {
                assertEquals("done", j.get("state").asText(), j.toString());
            }
            for (int i = 0; i < sources.size(); i++) {
                TestImages.assertSameContent(sources.get(i), dir.resolve("dst-" + i + ".raw"));
            }
            assertEquals("6", fleet.pg.query("SELECT count(*) FROM extentflow_jobs WHERE state = 'done'"));
        }
    }

    @Test
    void cancelFromAnotherDaemonStopsTheCopyWhereItRuns() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 32L << 20, 9, 100, 1 << 20);
        var slow = servers.nbdkit(dir, "--filter=delay", "file", src.toString(), "rdelay=100ms");
        // renewals every 10 s: only the notification can stop the copy within seconds
        try (Fleet fleet = Fleet.start(dir, 2, "--max-jobs", "1", "--checkpoint-interval", "10s")) {
            String id = fleet.client(0).submit(slow.uri(), dir.resolve("dst.raw").toString(), slowly());
            String owner = fleet.awaitQuery(Duration.ofMinutes(1), "the job to run",
                    "SELECT owner FROM extentflow_jobs WHERE id = '" + id + "' AND state = 'running'");
            DaemonProcess runner = fleet.byOwner(owner);
            JobsClient there = new JobsClient(runner.port);
            fleet.awaitJobs(there, Duration.ofMinutes(1), "the copy to move data",
                    l -> there.job(id).get("data_bytes").asLong() > 0);
            DaemonProcess other = fleet.daemons.stream().filter(d -> d != runner).findFirst().orElseThrow();
            JobsClient elsewhere = new JobsClient(other.port);
            // any daemon shows any job, and refuses requests without the token
            assertEquals("running", elsewhere.job(id).get("state").asText());
            assertEquals(owner, elsewhere.job(id).get("daemon").asText());
            assertEquals(401, elsewhere.request(HttpMethod.GET, "/v1/copies/" + id, null, h -> { }).status());
            var first = elsewhere.eventsUntil(id, e -> true).getFirst();
            assertEquals("progress", first.name());
            assertEquals("running", first.data().get("state").asText());

            long start = System.nanoTime();
            JobsClient.Reply reply = elsewhere.request(HttpMethod.DELETE, "/v1/copies/" + id, null);
            assertEquals(200, reply.status(), reply.toString());
            assertEquals("cancelled", reply.json().get("state").asText());
            fleet.awaitJobs(there, Duration.ofSeconds(8), "the copy to stop where it runs",
                    l -> counter(there.metrics(), "extentflow_daemon_fleet_running") == 0);
            slow.untilNoConnectionOpen(Duration.ofSeconds(8));
            long ms = (System.nanoTime() - start) / 1_000_000;
            System.out.println("cancel reached the running daemon in " + ms + " ms");
            assertTrue(ms < 8000, ms + " ms");
            assertEquals("cancelled", there.job(id).get("state").asText());
            assertEquals("cancelled", elsewhere.awaitResult(id).get("state").asText(), "the events end with the result");
            assertEquals("cancelled", fleet.pg.query("SELECT state FROM extentflow_jobs WHERE id = '" + id + "'"));
        }
    }

    /** Waits until some daemon's counter {@code name} is above zero. */
    private static void awaitMetric(Fleet fleet, String name) {
        fleet.await(Duration.ofMinutes(1), name + " > 0", () -> fleet.daemons.stream()
                .anyMatch(d -> counter(new JobsClient(d.port).metrics(), name) > 0));
    }

    /** The value of an unlabelled meter in a Prometheus scrape (0 when absent). */
    static long counter(String scrape, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " ([0-9.eE+]+)$").matcher(scrape);
        return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    }
}
