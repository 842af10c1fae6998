package io.extentflow.daemon;

import io.extentflow.cli.Extentflow;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code extentflow serve} with the copy daemon, run as a separate JVM with this test's class path,
 * so that a test can kill it as a crash would ({@link #kill()}: SIGKILL).
 */
final class DaemonProcess implements AutoCloseable {

    private static final Pattern DATA_API = Pattern.compile("data API: +https?://[^:]+:(\\d+)/");

    private final Process process;
    private final Path log;
    final int port;

    private DaemonProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** Starts {@code extentflow serve --port 0 ARGS...} with the token in the environment; returns once it listens. */
    static DaemonProcess start(Path dir, String token, String... args) throws IOException, InterruptedException {
        return start(dir, token, Map.of(), args);
    }

    /** {@link #start(Path, String, String...)} with more environment variables. */
    static DaemonProcess start(Path dir, String token, Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Extentflow.class.getName(), "serve", "--port", "0"));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile(dir, "daemon-", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
        pb.environment().put(io.extentflow.daemon.cli.DaemonOptions.TOKEN_VARIABLE, token);
        pb.environment().putAll(env);
        Process p = pb.start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process was killed
            }
        }, "daemon-stdout");
        reader.setDaemon(true);
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(200, TimeUnit.MILLISECONDS);
            if (line != null) {
                Matcher m = DATA_API.matcher(line);
                if (m.find()) {
                    return new DaemonProcess(p, log, Integer.parseInt(m.group(1)));
                }
            } else if (!p.isAlive()) {
                throw new AssertionError("daemon exited (" + p.exitValue() + "): " + Files.readString(log));
            }
        }
        p.destroyForcibly();
        throw new AssertionError("daemon did not start within 30 s: " + Files.readString(log));
    }

    /** SIGKILL, as a crash; returns once the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("killed daemon did not exit");
        }
    }

    /** The daemon's process id. */
    long pid() {
        return process.pid();
    }

    /** Sends {@code signal} (e.g. STOP, CONT) with kill(1). */
    void signal(String signal) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (k.waitFor() != 0) {
            throw new AssertionError("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    String log() throws IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
