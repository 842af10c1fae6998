package io.extentflow.daemon;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server for a test: Debian's {@code postgresql} package, a new cluster made with
 * {@code initdb} in a temporary directory, started with {@code pg_ctl} on a free loopback port, with a
 * password (SCRAM) for user {@value #USER} and a database {@value #DATABASE}. PostgreSQL refuses to
 * run as root, so under root (as CI runs) the cluster belongs to {@code nobody} and its commands run
 * through {@code runuser}.
 */
final class PostgresServer implements AutoCloseable {

    static final String USER = "extentflow";
    static final String DATABASE = "jobs";

    private final Path bin;
    private final Path dir;
    private final Path data;
    final int port;
    final String password;

    private PostgresServer(Path bin, Path dir, int port, String password) {
        this.bin = bin;
        this.dir = dir;
        this.data = dir.resolve("data");
        this.port = port;
        this.password = password;
    }

    /** Makes a cluster and starts it; fails (never skips) when PostgreSQL is not installed. */
    static PostgresServer start() throws IOException {
        Path bin = binaries();
        // not under JUnit's @TempDir: its mode 700 would keep the unprivileged server out
        Path dir = Files.createTempDirectory("extentflow-pg-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        String password = "pw-" + Long.toHexString(ThreadLocalRandom.current().nextLong());
        Path pwfile = dir.resolve("pwfile");
        Files.writeString(pwfile, password + "\n", StandardCharsets.UTF_8);
        PostgresServer pg = new PostgresServer(bin, dir, freePort(), password);
        if (root()) {
            run(List.of("chown", "-R", "nobody", dir.toString()));
        }
        pg.asServerUser(bin.resolve("initdb").toString(), "-D", pg.data.toString(), "-U", USER,
                "--pwfile=" + pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions");
        pg.startServer();
        pg.psql("postgres", "CREATE DATABASE " + DATABASE);
        return pg;
    }

    /** The daemon's {@code --jobs-db} address. */
    String address() {
        return "postgresql://" + USER + "@127.0.0.1:" + port + "/" + DATABASE;
    }

    /** Starts the server (again, after {@link #stop}); returns once it accepts connections. */
    void startServer() throws IOException {
        asServerUser(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", dir.resolve("log").toString(),
                "-w", "-t", "60", "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off",
                "start");
    }

    /** Stops the server at once, as a crash would (no shutdown checkpoint); returns once it is gone. */
    void stop() throws IOException {
        asServerUser(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "-w", "stop");
    }

    /** Runs SQL through psql over TCP with the password; returns its unaligned output. */
    String psql(String database, String sql) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(bin.resolve("psql").toString(), "-X", "-q", "-A", "-t",
                "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", USER,
                "-d", database, "-c", sql);
        pb.environment().put("PGPASSWORD", password);
        return exec(pb);
    }

    /** {@link #psql} on the jobs database. */
    String query(String sql) throws IOException {
        return psql(DATABASE, sql).strip();
    }

    /** The server's log, for failure messages. */
    String log() throws IOException {
        Path log = dir.resolve("log");
        return Files.exists(log) ? Files.readString(log) : "(no log)";
    }

    @Override
    public void close() throws IOException {
        try {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                stop();
            }
        } finally {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private void asServerUser(String... command) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (root()) {
            cmd.addAll(List.of("runuser", "-u", "nobody", "--"));
        }
        cmd.addAll(List.of(command));
        run(cmd);
    }

    private static String run(List<String> command) throws IOException {
        return exec(new ProcessBuilder(command));
    }

    private static String exec(ProcessBuilder pb) throws IOException {
        Path out = Files.createTempFile("extentflow-pg-cmd", ".out");
        try {
            Process p = pb.redirectErrorStream(true).redirectOutput(out.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + pb.command());
            }
            String text = Files.readString(out);
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", pb.command()) + " exited " + p.exitValue() + ": " + text);
            }
            return text;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted: " + pb.command(), e);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Debian keeps PostgreSQL's programs off the PATH, in /usr/lib/postgresql/VERSION/bin: the newest. */
    private static Path binaries() throws IOException {
        Path base = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(base)) {
            try (Stream<Path> versions = Files.list(base)) {
                var found = versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                        .max(Comparator.comparing(b -> version(b.getParent())));
                if (found.isPresent()) {
                    return found.get();
                }
            }
        }
        throw new AssertionError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); install it "
                + "(Debian: apt-get install -y postgresql), .ci/run does");
    }

    private static int version(Path dir) {
        try {
            return Integer.parseInt(dir.getFileName().toString().replaceAll("\\..*", ""));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
