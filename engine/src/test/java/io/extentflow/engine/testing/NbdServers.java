package io.extentflow.engine.testing;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.nbd.server.NbdServerConfig;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts real NBD servers (qemu-nbd, nbdkit) on Unix sockets for a test and kills them after it;
 * likewise extentflow's own server in the test's JVM ({@link #own}), so that one client test runs
 * against qemu-nbd and against it.
 *
 * <pre>{@code
 * @RegisterExtension final NbdServers servers = new NbdServers();
 * ...
 * NbdServers.Server s = servers.nbdkit(dir, "memory", "64M");
 * String uri = s.uri();   // nbd+unix:///?socket=...
 * }</pre>
 *
 * <p>Readiness without sleeping: qemu-nbd runs with {@code --fork}, whose parent exits once the
 * server listens; nbdkit runs in the foreground with {@code --exit-with-parent} and writes its pid
 * file once it accepts connections, which we wait for with a {@link WatchService}. A missing tool
 * fails the test ({@link ExternalTool#require}).
 */
public final class NbdServers implements AfterEachCallback, AutoCloseable {

    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final long START_TIMEOUT_SECONDS = 30;

    private static final Duration OPEN_TIMEOUT = Duration.ofSeconds(30);

    private final List<Server> started = new ArrayList<>();
    private final List<OwnNbdServer> ownServers = new ArrayList<>();

    /** A running server. */
    public static final class Server implements AutoCloseable {
        private final Path socket;
        private final int port;
        private final long pid;
        private final Path log;
        private final Process child;
        private final boolean readOnly;

        Server(Path socket, int port, long pid, Path log, Process child, boolean readOnly) {
            this.socket = socket;
            this.readOnly = readOnly;
            this.port = port;
            this.pid = pid;
            this.log = log;
            this.child = child;
        }

        /** The TCP port it listens on (on 127.0.0.1), or 0 for a Unix socket. */
        public int port() {
            return port;
        }

        /** The Unix socket it listens on, or null for TCP. */
        public Path socket() {
            return socket;
        }

        /** The URI of the default export. */
        public String uri() {
            return uri("");
        }

        /** The URI of {@code export}. */
        public String uri(String export) {
            return socket == null ? "nbd://127.0.0.1:" + port + "/" + export
                    : "nbd+unix:///" + export + "?socket=" + socket;
        }

        /** The server's process id. */
        public long pid() {
            return pid;
        }

        /** The client connections the server holds open now ({@link ServerSockets}). */
        public int openConnections() {
            return ServerSockets.connections(pid);
        }

        /**
         * Waits until the server holds no client connection: each one a client closed has ended on the
         * server's side too. Servers are certain to close their end after a hang-up, where nbdkit's log
         * filter does not always log it (no "Disconnect" line for a connection cut mid-request).
         */
        public void untilNoConnectionOpen(Duration timeout) {
            Await.until(timeout, "no client connection open at " + uri(),
                    () -> openConnections() == 0);
        }

        /** True while the server process runs. */
        public boolean isAlive() {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }

        /** What the server wrote to stderr/stdout so far. */
        public String log() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(no log: " + e.getMessage() + ")";
            }
        }

        /** Kills the server with SIGKILL, as a crash would, and waits until it is gone. */
        public void kill() {
            stop(true);
        }

        /** Stops the server (SIGTERM, then SIGKILL after 10 s) and waits until it is gone. */
        @Override
        public void close() {
            stop(false);
        }

        private void stop(boolean force) {
            signal(force);
            awaitExit();
        }

        /** Sends SIGKILL ({@code force}) or SIGTERM; returns at once. */
        void signal(boolean force) {
            ProcessHandle.of(pid).ifPresent(p -> {
                if (force) {
                    p.destroyForcibly();
                } else {
                    p.destroy();
                }
            });
        }

        /** Waits until the process is gone: SIGKILL after 10 s. qemu-nbd needs 1-2 s to exit. */
        void awaitExit() {
            Optional<ProcessHandle> h = ProcessHandle.of(pid);
            if (h.isEmpty()) {
                return;
            }
            ProcessHandle p = h.get();
            try {
                p.onExit().get(10, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                p.destroyForcibly();
                p.onExit().orTimeout(10, TimeUnit.SECONDS).join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                throw new AssertionError(e);
            }
            if (child != null) {
                child.destroyForcibly();
            }
        }
    }

    /**
     * {@code qemu-nbd -t --fork -k SOCK ARGS...} (add e.g. {@code -f raw FILE}, {@code -r}, {@code -A},
     * {@code -e 4}).
     */
    public Server qemuNbd(Path dir, String... args) throws IOException {
        String exe = ExternalTool.require("qemu-nbd").toString();
        int n = COUNTER.incrementAndGet();
        Path socket = dir.resolve("qemu-nbd-" + n + ".sock");
        Path pidFile = dir.resolve("qemu-nbd-" + n + ".pid");
        Path log = dir.resolve("qemu-nbd-" + n + ".log");
        List<String> cmd = new ArrayList<>(List.of(exe, "-t", "--fork", "--pid-file=" + pidFile, "-k",
                socket.toString()));
        cmd.addAll(List.of(args));
        Process parent = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!parent.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                parent.destroyForcibly();
                throw new AssertionError("qemu-nbd did not start within " + START_TIMEOUT_SECONDS + " s: " + cmd);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        if (parent.exitValue() != 0) {
            throw new AssertionError("qemu-nbd failed (" + parent.exitValue() + "): " + cmd + "\n"
                    + Files.readString(log));
        }
        boolean readOnly = cmd.contains("-r") || cmd.contains("--read-only");
        return register(new Server(socket, 0, readPid(pidFile), log, null, readOnly));
    }

    /**
     * {@code nbdkit --exit-with-parent -P PIDFILE -U SOCK ARGS...} (plugin, parameters and
     * {@code --filter=...} options).
     */
    public Server nbdkit(Path dir, String... args) throws IOException {
        return nbdkit(dir, false, args);
    }

    /**
     * Like {@link #nbdkit(Path, String...)} but on TCP, {@code 127.0.0.1} and a port the kernel picks
     * ({@code -p 0} is not supported by nbdkit 1.32, so a free port is found first; a clash fails the
     * start visibly).
     */
    public Server nbdkitTcp(Path dir, String... args) throws IOException {
        return nbdkit(dir, true, args);
    }

    private Server nbdkit(Path dir, boolean tcp, String... args) throws IOException {
        String exe = ExternalTool.require("nbdkit").toString();
        int n = COUNTER.incrementAndGet();
        Path socket = tcp ? null : dir.resolve("nbdkit-" + n + ".sock");
        int port = tcp ? freePort() : 0;
        Path pidFile = dir.resolve("nbdkit-" + n + ".pid");
        Path log = dir.resolve("nbdkit-" + n + ".log");
        List<String> cmd = new ArrayList<>(List.of(exe, "--exit-with-parent", "-P", pidFile.toString()));
        cmd.addAll(tcp ? List.of("-i", "127.0.0.1", "-p", Integer.toString(port)) : List.of("-U", socket.toString()));
        if (List.of(args).contains("--filter=delay")) {
            // nbdkit 1.32 aborts (connections.c: raw_send_socket: Assertion `sock >= 0' failed) when a
            // client hangs up while another worker thread of the connection still sleeps on a
            // delayed reply; the server is then gone for every later client (a daemon taking over a
            // job, a retry). Measured outside our code: killed nbdcopy runs brought it down after 2
            // hang-ups with the default threads, none in 25 with one thread per connection. Requests
            // of one connection are then served in turn; several connections still run in parallel.
            cmd.add("--threads=1");
        }
        cmd.addAll(List.of(args));
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
            while (!pidWritten(pidFile)) {
                if (!p.isAlive()) {
                    throw new AssertionError("nbdkit exited (" + p.exitValue() + "): " + cmd + "\n"
                            + Files.readString(log));
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    p.destroyForcibly();
                    throw new AssertionError("nbdkit did not start within " + START_TIMEOUT_SECONDS + " s: " + cmd);
                }
                // Wakes on any file event in the directory (the pid file appearing); bounded so that
                // an early exit of nbdkit is noticed too.
                var key = watch.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)), TimeUnit.NANOSECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
            return register(new Server(socket, port, p.pid(), log, p, false));
        } catch (InterruptedException | ClosedWatchServiceException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * extentflow's own NBD server in this JVM ({@link OwnNbdServer}) serving {@code source}, writable
     * through {@code sink} unless it is null; stopped after the test with the others.
     */
    public OwnNbdServer own(Path dir, ImageSource source, ImageSink sink) {
        return own(dir, source, sink, NbdServerConfig.defaults().maxConnections());
    }

    /** As {@link #own(Path, ImageSource, ImageSink)}, serving at most {@code connections} clients at once. */
    public synchronized OwnNbdServer own(Path dir, ImageSource source, ImageSink sink, int connections) {
        OwnNbdServer s = OwnNbdServer.serve(dir, source, sink, connections);
        ownServers.add(s);
        return s;
    }

    /**
     * The file {@code image} served by {@link #own(Path, ImageSource, ImageSink)} as
     * {@code qemu-nbd [-r] IMAGE} serves it: read-only, or writable through the same file. The file is
     * opened through {@link Endpoints}, so with the providers of the module under test.
     */
    public OwnNbdServer own(Path dir, Path image, boolean readOnly) {
        ImageSource source = Endpoints.source(image.toString()).block(OPEN_TIMEOUT);
        ImageSink sink = readOnly ? null : Endpoints.sink(image.toString(), source.size()).block(OPEN_TIMEOUT);
        return own(dir, source, sink);
    }

    private static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean pidWritten(Path pidFile) throws IOException {
        return Files.exists(pidFile) && Files.readString(pidFile).trim().matches("\\d+");
    }

    private static long readPid(Path pidFile) throws IOException {
        return Long.parseLong(Files.readString(pidFile).trim());
    }

    private synchronized Server register(Server s) {
        started.add(s);
        return s;
    }

    /**
     * Stops every server this instance started: our own first, then the processes, all signalled
     * first, then awaited, so they exit in parallel.
     */
    @Override
    public synchronized void close() {
        ownServers.forEach(OwnNbdServer::close);
        ownServers.clear();
        for (Server s : started) {
            // a read-only server has nothing to lose; SIGKILL spares qemu-nbd's 1-2 s shutdown
            s.signal(s.readOnly);
        }
        for (Server s : started) {
            s.awaitExit();
        }
        started.clear();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }
}
