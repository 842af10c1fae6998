package io.extentflow.cli;

import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.ExternalTool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code extentflow nbd ARGS...} as its own JVM for tests with real NBD clients: started, ready once
 * it prints the URI it serves, stopped with SIGTERM as a user would. Standard output and error go to
 * files, so nothing the server writes can ever wait for the test.
 */
public final class NbdCommandProcess implements AutoCloseable {

    private static final Duration START_LIMIT = Duration.ofSeconds(60);
    private static final Pattern SERVING = Pattern.compile("^extentflow nbd: serving .* at (\\S+)$",
            Pattern.MULTILINE);

    private final Process process;
    private final Path out;
    private final Path err;
    private final String uri;

    private NbdCommandProcess(Process process, Path out, Path err, String uri) {
        this.process = process;
        this.out = out;
        this.err = err;
        this.uri = uri;
    }

    /** Starts the command in {@code dir} (for its output files) and waits until it serves. */
    public static NbdCommandProcess start(Path dir, String... args) throws IOException {
        Path out = Files.createTempFile(dir, "nbd-out", ".txt");
        Path err = Files.createTempFile(dir, "nbd-err", ".txt");
        // SIGINT and SIGTERM at their default disposition, whatever the test runner inherited (InterruptTest)
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT,TERM"));
        cmd.addAll(Cli.javaCommand());
        cmd.add("nbd");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        String[] uri = new String[1];
        try {
            Await.until(START_LIMIT, "extentflow nbd serving", () -> {
                if (!p.isAlive()) {
                    return true;
                }
                Matcher m = SERVING.matcher(read(out));
                if (m.find()) {
                    uri[0] = m.group(1);
                    return true;
                }
                return false;
            });
        } catch (AssertionError e) {
            p.destroyForcibly();
            throw new AssertionError(e.getMessage() + "\n" + read(err), e);
        }
        if (uri[0] == null) {
            throw new AssertionError("extentflow nbd " + String.join(" ", args) + " ended: exit "
                    + p.exitValue() + "\n" + read(err));
        }
        return new NbdCommandProcess(p, out, err, uri[0]);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    /** The URI it printed, e.g. {@code nbd+unix:///?socket=/tmp/x/s.sock}. */
    public String uri() {
        return uri;
    }

    /** What it wrote to standard error so far. */
    public String stderr() {
        return read(err);
    }

    /** What it wrote to standard output so far. */
    public String stdout() {
        return read(out);
    }

    /** The process id. */
    public long pid() {
        return process.pid();
    }

    /** SIGTERM, as a service manager stops it; returns the exit code once it has ended. */
    public int stop() throws InterruptedException {
        ExternalTool.check("kill", "-TERM", Long.toString(process.pid()));
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("extentflow nbd did not end within 30 s of SIGTERM\n" + stderr());
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
