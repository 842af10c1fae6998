package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NbdkitLog;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C (SIGINT) and SIGTERM during a copy, through the command's own process: one line saying
 * what the target holds, the signal's exit code, a target the copy created removed, an existing
 * one kept, and every connection closed.
 */
class InterruptTest {

    private static final int RUNS = 20;
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @Test
    void sigintAtRandomPointsStopsTheCopyCleanly() throws Exception {
        // A 1 GiB source served at 8 MB/s (the rate filter counts bits): the copy takes two minutes, so
        // every signal below finds it running. 4 MiB in flight: the server drains them in half a second
        // once the client is gone, and only then closes its end. One thread per connection
        // (-t 1): nbdkit 1.32 with several aborts on an assertion when a client leaves mid-request.
        Path log = dir.resolve("nbdkit.log");
        var source = servers.nbdkit(dir, "-t", "1", "--filter=log", "--filter=rate", "random", "1G", "rate=64M",
                "logfile=" + log);
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        for (int run = 0; run < RUNS; run++) {
            boolean existing = run % 3 == 2;
            Path target = dir.resolve("out-" + run + ".raw");
            if (existing) {
                try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
                    f.setLength(1L << 30);
                }
            }
            // The random point: after the process connected (its signal handling is set up by then)
            // and after a random number of the source's reads, counted in the server's log.
            long connectsBefore = NbdkitLog.count(log, " Connect ");
            long readsBefore = NbdkitLog.count(log, " Read ");
            int reads = random.nextInt(12);
            String what = "run " + run + " (seed " + seed + ", signal after " + reads + " reads)";
            Path errFile = dir.resolve("stderr-" + run + ".txt");
            Process p = start(errFile, "copy", "--max-in-flight", "4M", source.uri(), target.toString());
            try {
                Await.until(LIMIT, "the copy's connection and " + reads + " reads, " + what,
                        () -> !p.isAlive() || NbdkitLog.count(log, " Connect ") > connectsBefore
                                && NbdkitLog.count(log, " Read ") >= readsBefore + reads);
                assertTrue(p.isAlive(), what + ": the copy ended before the signal");
                ExternalTool.check("kill", "-INT", Long.toString(p.pid()));
                exited(p, errFile, what + ": no exit after SIGINT");
                String err = Files.readString(errFile);
                List<String> lines = err.lines().filter(l -> !l.isBlank()).toList();
                assertEquals(130, p.exitValue(), what + ": " + err);
                assertEquals(1, lines.size(), what + ": one line expected: " + err);
                assertTrue(lines.get(0).startsWith("extentflow: interrupted: " + target + " is incomplete ("),
                        what + ": " + err);
                assertTrue(lines.get(0).contains(" of 1 GiB done)"), what + ": " + err);
                assertEquals(existing, Files.exists(target), what + ": " + (existing
                        ? "an existing target is never removed" : "the target the copy created is removed")
                        + "; " + err);
            } finally {
                p.destroyForcibly();
                p.waitFor();
            }
            // nbdkit ends each connection the copy left (its log filter does not always write Disconnect)
            source.untilNoConnectionOpen(LIMIT);
        }
    }

    @Test
    void sigtermKeepPartialKeepsTheNewTarget() throws Exception {
        Path log = dir.resolve("nbdkit.log");
        var source = servers.nbdkit(dir, "-t", "1", "--filter=log", "--filter=rate", "random", "1G", "rate=64M",
                "logfile=" + log);
        Path target = dir.resolve("out.raw");
        Path errFile = dir.resolve("stderr.txt");
        Process p = start(errFile, "copy", "--max-in-flight", "4M", "--keep-partial", source.uri(),
                target.toString());
        try {
            Await.until(LIMIT, "the copy's first reads", () -> !p.isAlive() || NbdkitLog.count(log, " Read ") >= 4);
            assertTrue(p.isAlive(), "the copy ended before the signal");
            ExternalTool.check("kill", "-TERM", Long.toString(p.pid())); // Process.destroy would close its pipes
            exited(p, errFile, "no exit after SIGTERM");
            String err = Files.readString(errFile);
            assertEquals(143, p.exitValue(), err);
            assertTrue(err.strip().startsWith("extentflow: interrupted: " + target + " is incomplete ("), err);
            assertTrue(err.contains("kept as --keep-partial asks"), err);
            assertEquals(1, err.strip().lines().count(), err);
            assertTrue(Files.exists(target), "--keep-partial keeps the target");
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    /**
     * Starts the command with its standard error going to {@code errFile}: a file, not a pipe read only
     * at the end, so that nothing it writes can ever wait for the test.
     */
    private static Process start(Path errFile, String... args) throws Exception {
        // A process started in the background of a shell without job control inherits SIGINT as
        // ignored, and a JVM that starts with it ignored keeps ignoring it (as it should: nohup and
        // `cmd &` mean exactly that): the command gets SIGINT's default disposition back first, so
        // the test does not depend on how its own runner was started.
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT,TERM"));
        cmd.addAll(Cli.javaCommand());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(errFile.toFile()).start();
    }

    /** Asserts {@code p} exits within the limit; if not, the message holds its threads' stacks and what it wrote. */
    private static void exited(Process p, Path errFile, String what) throws Exception {
        if (p.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)) {
            return;
        }
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        ExternalTool.Result stacks = ExternalTool.run(List.of("env", jcmd, Long.toString(p.pid()), "Thread.print"));
        throw new AssertionError(what + "; it wrote:\n" + Files.readString(errFile) + "\nits threads:\n"
                + stacks.stdout() + stacks.stderr());
    }
}
