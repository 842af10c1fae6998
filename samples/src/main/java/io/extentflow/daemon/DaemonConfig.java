package io.extentflow.daemon;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the copy daemon runs (the image server's own settings are in
 * {@link io.extentflow.server.ServerConfig}). Immutable; start from {@link #of(Path, String)}.
 *
 * @param stateDir           directory of the job journal; created when missing (null in fleet mode)
 * @param token              bearer token of the jobs API, or null: the jobs API then refuses every request
 * @param maxRunning         copies running at once; the others wait in the queue
 * @param checkpointInterval how often a running copy's checkpoint is made durable (target flushed,
 *                           journal appended); a restart repeats at most this much work
 * @param eventInterval      least time between two progress events of one event stream
 * @param keepFinished       finished jobs remembered (the oldest are forgotten when the journal is compacted)
 * @param compactAfter       journal records beyond the three per job that make the journal compacted
 *                           while running (a long copy adds one every checkpoint interval)
 * @param jobsDb             the fleet's PostgreSQL database, or null: jobs are then kept in the journal
 * @param leaseTime          fleet mode: how long a claimed job stays with its daemon without a renewal
 *                           (renewed every checkpoint interval); after that another daemon may take it
 * @param maxPerSourceHost   fleet mode: most jobs running at once in the whole fleet that read from one
 *                           NBD or HTTP host ({@code host:port}); 0 for no limit
 */
public record DaemonConfig(Path stateDir, String token, int maxRunning, Duration checkpointInterval,
                           Duration eventInterval, int keepFinished, long compactAfter, DatabaseConfig jobsDb,
                           Duration leaseTime, int maxPerSourceHost) {

    public static final int DEFAULT_MAX_RUNNING = 2;
    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_LEASE_TIME = Duration.ofSeconds(15);

    public DaemonConfig {
        if (stateDir == null && jobsDb == null) {
            throw new IllegalArgumentException("the copy daemon needs a state directory (--state-dir) or a jobs "
                    + "database (--jobs-db)");
        }
        if (token != null && token.isBlank()) {
            throw new IllegalArgumentException("the jobs API token is empty");
        }
        if (maxPerSourceHost < 0) {
            throw new IllegalArgumentException("the limit of jobs per source host must not be negative");
        }
        if (maxRunning <= 0 || keepFinished < 0 || compactAfter <= 0) {
            throw new IllegalArgumentException("max running jobs must be positive");
        }
        if (checkpointInterval.isNegative() || checkpointInterval.isZero() || eventInterval.isNegative()
                || eventInterval.isZero()) {
            throw new IllegalArgumentException("intervals must be positive");
        }
        if (jobsDb != null && leaseTime.compareTo(checkpointInterval.multipliedBy(2)) < 0) {
            // a lease must survive one slow renewal: it is renewed every checkpoint interval
            throw new IllegalArgumentException("the lease time (" + leaseTime.toMillis() + " ms) must be at least "
                    + "twice the checkpoint interval (" + checkpointInterval.toMillis() + " ms)");
        }
    }

    /**
     * 2 jobs at once, checkpoints every second, events at most every 200 ms, 1000 finished jobs kept,
     * compaction after 10000 extra records.
     */
    public static DaemonConfig of(Path stateDir, String token) {
        return new DaemonConfig(stateDir, token, DEFAULT_MAX_RUNNING, DEFAULT_CHECKPOINT_INTERVAL,
                Duration.ofMillis(200), 1000, 10_000, null, DEFAULT_LEASE_TIME, 0);
    }

    /** {@link #of} with no state directory: jobs in the fleet's database {@code jobsDb}. */
    public static DaemonConfig fleet(DatabaseConfig jobsDb, String token) {
        return new DaemonConfig(null, token, DEFAULT_MAX_RUNNING, DEFAULT_CHECKPOINT_INTERVAL,
                Duration.ofMillis(200), 1000, 10_000, jobsDb, DEFAULT_LEASE_TIME, 0);
    }

    /** The same with jobs kept in {@code db} (fleet mode) instead of the journal. */
    public DaemonConfig withJobsDb(DatabaseConfig db) {
        return new DaemonConfig(stateDir, token, maxRunning, checkpointInterval, eventInterval, keepFinished,
                compactAfter, db, leaseTime, maxPerSourceHost);
    }

    public DaemonConfig withMaxPerSourceHost(int value) {
        return new DaemonConfig(stateDir, token, maxRunning, checkpointInterval, eventInterval, keepFinished,
                compactAfter, jobsDb, leaseTime, value);
    }

    public DaemonConfig withLeaseTime(Duration value) {
        return new DaemonConfig(stateDir, token, maxRunning, checkpointInterval, eventInterval, keepFinished,
                compactAfter, jobsDb, value, maxPerSourceHost);
    }

    public DaemonConfig withMaxRunning(int value) {
        return new DaemonConfig(stateDir, token, value, checkpointInterval, eventInterval, keepFinished, compactAfter,
                jobsDb, leaseTime, maxPerSourceHost);
    }

    public DaemonConfig withCheckpointInterval(Duration value) {
        return new DaemonConfig(stateDir, token, maxRunning, value, eventInterval, keepFinished, compactAfter,
                jobsDb, leaseTime, maxPerSourceHost);
    }

    public DaemonConfig withEventInterval(Duration value) {
        return new DaemonConfig(stateDir, token, maxRunning, checkpointInterval, value, keepFinished, compactAfter, jobsDb,
                leaseTime, maxPerSourceHost);
    }

    public DaemonConfig withJournalLimits(int keepFinishedJobs, long compactAfterRecords) {
        return new DaemonConfig(stateDir, token, maxRunning, checkpointInterval, eventInterval, keepFinishedJobs,
                compactAfterRecords, jobsDb, leaseTime, maxPerSourceHost);
    }
}
