package io.extentflow.daemon.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.daemon.DaemonConfig;
import io.extentflow.daemon.DatabaseConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The copy daemon's options of {@code extentflow serve} (added to its command line by {@link #define}). The jobs API runs when a
 * state directory (jobs in a journal) or a jobs database (jobs of a fleet) is given; it answers
 * requests only when a token is configured.
 */
public final class DaemonOptions {

    /** The environment variable holding the jobs API token itself (no flag: flags show in {@code ps}). */
    public static final String TOKEN_VARIABLE = "EXTENTFLOW_TOKEN";

    private Path config;
    private Path stateDir;
    private String jobsDb;
    private Path dbPasswordFile;
    private Duration leaseTime;
    private int maxPerSourceHost;
    private Path tokenFile;
    private int maxJobs;
    private Duration checkpointInterval;

    /** Adds the options to {@code command} ({@code extentflow serve}). */
    public void define(CommandSpec command) {
        command.option("--config", "FILE", "Properties file of settings: one 'name=value' per option, named "
                        + "without the dashes (e.g. 'state-dir=/var/lib/extentflow', 'max-jobs=4'). Flags override "
                        + "environment variables (EXTENTFLOW_<NAME>, e.g. EXTENTFLOW_STATE_DIR), which override the "
                        + "file. Also EXTENTFLOW_CONFIG.", null, v -> config = Path.of(v))
                .option("--state-dir", "DIR", "Directory of the copy jobs' journal. Given, the daemon also runs "
                        + "the jobs API (/v1/copies), the status page (/) and resumes interrupted jobs at start.",
                        null, v -> stateDir = Path.of(v))
                .option("--jobs-db", "ADDRESS", "Fleet mode: keep the copy jobs in this PostgreSQL database, "
                        + "postgresql://USER@HOST:PORT/DB, shared by every daemon pointed at it (instead of "
                        + "--state-dir's journal). The password comes from " + DatabaseConfig.PASSWORD_VARIABLE
                        + " or --jobs-db-password-file, never from the command line. See docs/fleet.md.",
                        null, v -> jobsDb = v)
                .option("--jobs-db-password-file", "FILE", "File holding the jobs database's password.", null,
                        v -> dbPasswordFile = Path.of(v))
                .option("--lease-time", "DURATION", "Fleet mode: how long a job stays with a daemon that "
                        + "stopped renewing its lease (it renews every checkpoint interval) before another "
                        + "daemon takes it over. Default: 15s, or three checkpoint intervals if longer.", null,
                        v -> leaseTime = parseDuration(v))
                .option("--max-jobs-per-source-host", "N", "Fleet mode: at most N jobs running at once in the whole "
                        + "fleet that read from one NBD or HTTP host (host:port); give every daemon the same. "
                        + "0: no limit.", "0", v -> maxPerSourceHost = Integer.parseInt(v))
                .option("--token-file", "FILE", "File holding the jobs API's bearer token (or set "
                        + TOKEN_VARIABLE + "). Without a token the jobs API refuses every request.", null,
                        v -> tokenFile = Path.of(v))
                .option("--max-jobs", "N", "Copy jobs running at once; the others queue.", "2",
                        v -> maxJobs = Integer.parseInt(v))
                .option("--checkpoint-interval", "DURATION", "How often a running job's progress is made durable "
                        + "(target flushed, journal synced); a restart redoes at most this much. Units ms, s, m.",
                        "1s", v -> checkpointInterval = parseDuration(v));
    }

    /** The {@code --config} file given on the command line, or {@code null}. */
    public Path configFile() {
        return config;
    }

    /** True when the copy daemon runs (a state directory or a jobs database is configured). */
    public boolean enabled() {
        if (stateDir != null && jobsDb != null) {
            throw new IllegalArgumentException("give --state-dir (jobs in a journal) or --jobs-db (jobs in a "
                    + "fleet's database), not both");
        }
        if (stateDir == null && jobsDb == null && tokenFile != null) {
            throw new IllegalArgumentException("--token-file is for the jobs API, which needs --state-dir or "
                    + "--jobs-db");
        }
        if (jobsDb == null && (dbPasswordFile != null || leaseTime != null || maxPerSourceHost != 0)) {
            throw new IllegalArgumentException("--jobs-db-password-file, --lease-time and --max-jobs-per-source-host "
                    + "are for --jobs-db");
        }
        return stateDir != null || jobsDb != null;
    }

    /** The daemon's configuration; reads the token file. Blocking (call at start, not on an event loop). */
    public DaemonConfig config() throws IOException {
        String token = System.getenv(TOKEN_VARIABLE);
        if (tokenFile != null) {
            token = Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
            if (token.isEmpty()) {
                throw new IOException(tokenFile + ": the token file is empty");
            }
        }
        if (token != null && token.isBlank()) {
            token = null;
        }
        if (jobsDb == null) {
            return DaemonConfig.of(stateDir, token).withMaxRunning(maxJobs)
                    .withCheckpointInterval(checkpointInterval);
        }
        DatabaseConfig db = DatabaseConfig.parse(jobsDb, dbPassword());
        Duration lease = leaseTime != null ? leaseTime
                : max(DaemonConfig.DEFAULT_LEASE_TIME, checkpointInterval.multipliedBy(3));
        // the lease first: the interval is checked against it
        return DaemonConfig.fleet(db, token).withMaxRunning(maxJobs).withLeaseTime(lease)
                .withCheckpointInterval(checkpointInterval).withMaxPerSourceHost(maxPerSourceHost);
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    /** The database password: the file's first line, else the environment variable, else none. */
    private String dbPassword() throws IOException {
        if (dbPasswordFile != null) {
            String p = Files.readString(dbPasswordFile, StandardCharsets.UTF_8).lines().findFirst().orElse("");
            if (p.isEmpty()) {
                throw new IOException(dbPasswordFile + ": the password file is empty");
            }
            return p;
        }
        String p = System.getenv(DatabaseConfig.PASSWORD_VARIABLE);
        return p == null || p.isEmpty() ? null : p;
    }

    /** {@code 200ms}, {@code 1s}, {@code 2m}, or plain seconds. */
    static Duration parseDuration(String value) {
        String v = value.strip();
        try {
            if (v.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
            }
            if (v.endsWith("s")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
            }
            if (v.endsWith("m")) {
                return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)) * 60);
            }
            return Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + value + "' is not a duration (e.g. 500ms, 2s, 1m)");
        }
    }
}
