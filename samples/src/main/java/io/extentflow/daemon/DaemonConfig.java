package io.extentflow.daemon;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How the copy daemon runs (the image server's own settings are in
 * {@link io.extentflow.server.ServerConfig}). Immutable; start from {@link #of(Path, String)}.
 *
 * @param stateDir           directory of the job journal; created when missing
 * @param token              bearer token of the jobs API, or null: the jobs API then refuses every request
 * @param maxRunning         copies running at once; the others wait in the queue
 * @param checkpointInterval how often a running copy's checkpoint is made durable (target flushed,
 *                           journal appended); a restart repeats at most this much work
 * @param eventInterval      least time between two progress events of one event stream
 * @param keepFinished       finished jobs remembered (the oldest are forgotten when the journal is compacted)
 * @param compactAfter       journal records beyond the three per job that make the journal compacted
 *                           while running (a long copy adds one every checkpoint interval)
 */
public record DaemonConfig(Path stateDir, String token, int maxRunning, Duration checkpointInterval,
                           Duration eventInterval, int keepFinished, long compactAfter) {

    public static final int DEFAULT_MAX_RUNNING = 2;
    public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(1);

    public DaemonConfig {
        if (stateDir == null) {
            throw new IllegalArgumentException("the copy daemon needs a state directory (--state-dir)");
        }
        if (token != null && token.isBlank()) {
            throw new IllegalArgumentException("the jobs API token is empty");
        }
        if (maxRunning <= 0 || keepFinished < 0 || compactAfter <= 0) {
            throw new IllegalArgumentException("max running jobs must be positive");
        }
        if (checkpointInterval.isNegative() || checkpointInterval.isZero() || eventInterval.isNegative()
                || eventInterval.isZero()) {
            throw new IllegalArgumentException("intervals must be positive");
        }
    }

    /**
     * 2 jobs at once, checkpoints every second, events at most every 200 ms, 1000 finished jobs kept,
     * compaction after 10000 extra records.
     */
    public static DaemonConfig of(Path stateDir, String token) {
        return new DaemonConfig(stateDir, token, DEFAULT_MAX_RUNNING, DEFAULT_CHECKPOINT_INTERVAL,
                Duration.ofMillis(200), 1000, 10_000);
    }

    public DaemonConfig withMaxRunning(int value) {
        return new DaemonConfig(stateDir, token, value, checkpointInterval, eventInterval, keepFinished, compactAfter);
    }

    public DaemonConfig withCheckpointInterval(Duration value) {
        return new DaemonConfig(stateDir, token, maxRunning, value, eventInterval, keepFinished, compactAfter);
    }

    public DaemonConfig withEventInterval(Duration value) {
        return new DaemonConfig(stateDir, token, maxRunning, checkpointInterval, value, keepFinished, compactAfter);
    }

    public DaemonConfig withJournalLimits(int keepFinishedJobs, long compactAfterRecords) {
        return new DaemonConfig(stateDir, token, maxRunning, checkpointInterval, eventInterval, keepFinishedJobs,
                compactAfterRecords);
    }
}
