package io.extentflow.engine.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs real peer tools (qemu-img, qemu-io, qemu-nbd, nbdkit, nbdinfo, nbdcopy) from tests. A missing
 * tool fails the test with the package to install; it never skips.
 */
public final class ExternalTool {

    private ExternalTool() {
    }

    /** Output of a finished command. */
    public record Result(int exitCode, String stdout, String stderr) {
    }

    /** Fails with an install hint unless {@code tool} is on the PATH. */
    public static Path require(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new AssertionError(tool + " is not installed; install it (Debian: apt-get install -y "
                + packageOf(tool) + "), .ci/run does");
    }

    private static String packageOf(String tool) {
        return switch (tool) {
            case "qemu-img", "qemu-io", "qemu-nbd" -> "qemu-utils";
            case "nbdkit" -> "nbdkit";
            case "nbdinfo", "nbdcopy" -> "libnbd-bin";
            case "chromedriver" -> "chromium chromium-driver";
            case "fincore" -> "util-linux";
            default -> tool;
        };
    }

    /** Runs a command to completion (at most 5 minutes) and returns its output. */
    public static Result run(String... command) {
        return run(List.of(command));
    }

    /** Runs a command to completion (at most 5 minutes) and returns its output. */
    public static Result run(List<String> command) {
        require(command.get(0));
        try {
            Process p = new ProcessBuilder(new ArrayList<>(command)).start();
            p.getOutputStream().close();
            var out = drain(p.getInputStream());
            var err = drain(p.getErrorStream());
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + command);
            }
            out.join();
            err.join();
            return new Result(p.exitValue(), out.text(), err.text());
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command, e);
        }
    }

    /** Runs a command and returns its standard output; fails the test if it exits non-zero. */
    public static String check(String... command) {
        Result r = run(command);
        if (r.exitCode() != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + r.exitCode() + ": " + r.stderr());
        }
        return r.stdout();
    }

    private static Drain drain(InputStream in) {
        Drain d = new Drain(in);
        d.start();
        return d;
    }

    private static final class Drain extends Thread {
        private final InputStream in;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream();

        Drain(InputStream in) {
            this.in = in;
            setDaemon(true);
        }

        @Override
        public void run() {
            try {
                in.transferTo(buf);
            } catch (IOException ignored) {
                // the process ended
            }
        }

        String text() {
            return buf.toString(StandardCharsets.UTF_8);
        }
    }
}
