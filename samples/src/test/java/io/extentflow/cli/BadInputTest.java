package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of bad input ends with one line on standard error, {@code extentflow: <cause>}, a
 * non-zero exit code and no stack trace.
 */
class BadInputTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @Test
    void missingSource() {
        Path missing = dir.resolve("missing.raw");
        assertOneLine(Cli.run("copy", missing.toString(), dir.resolve("out.raw").toString()),
                ExitCodes.FAILURE, missing + ": no such file");
        assertOneLine(Cli.run("map", missing.toString()), ExitCodes.FAILURE, "no such file");
        assertOneLine(Cli.run("info", missing.toString()), ExitCodes.FAILURE, "no such file");
    }

    @Test
    void missingSourceToAnNbdTargetClosesTheConnectionsMadeMeanwhile() throws Exception {
        // the target connects while the source opens; a source that fails leaves no connection behind
        Path missing = dir.resolve("missing.raw");
        var s = servers.nbdkit(dir, "memory", "1M");
        assertOneLine(Cli.run("copy", missing.toString(), s.uri()), ExitCodes.FAILURE, missing + ": no such file");
        // the process has ended; nbdkit has closed its end of whatever connections it made meanwhile
        s.untilNoConnectionOpen(Duration.ofSeconds(10));
    }

    @Test
    void directoryAsSourceOrTarget() throws Exception {
        Path src = image("src.raw", 1 << 20);
        assertOneLine(Cli.run("copy", dir.toString(), dir.resolve("out.raw").toString()),
                ExitCodes.FAILURE, dir + ": is a directory");
        assertOneLine(Cli.run("copy", src.toString(), dir.toString()), ExitCodes.FAILURE, "is a directory");
    }

    @Test
    void unreadableSource() throws Exception {
        // We run as root, which reads anything: drop the capabilities that bypass file permissions.
        Path src = image("secret.raw", 1 << 20);
        Files.setPosixFilePermissions(src, PosixFilePermissions.fromString("---------"));
        ExternalTool.require("setpriv");
        Cli.Result r = Cli.runProcess(List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search"),
                "copy", src.toString(), dir.resolve("out.raw").toString());
        assertOneLine(r, ExitCodes.FAILURE, src + ": permission denied");
        assertFalse(Files.exists(dir.resolve("out.raw")), "no target is created for an unreadable source");
    }

    @Test
    void existingTargetOfTheWrongSize() throws Exception {
        Path src = image("src.raw", 2 << 20);
        Path dst = image("dst.raw", 3 << 20);
        assertOneLine(Cli.run("copy", src.toString(), dst.toString()), ExitCodes.FAILURE,
                "existing target has " + (3 << 20) + " bytes but the image has " + (2 << 20));
    }

    @Test
    void windowPastTheEnd() throws Exception {
        Path src = image("src.raw", 1 << 20);
        assertOneLine(Cli.run("map", "--output=json", "--start-offset", "2M", src.toString()), ExitCodes.FAILURE,
                "--start-offset 2097152 is past the end of " + src + " (size 1048576)");
    }

    @Test
    void unknownAddress() {
        assertOneLine(Cli.run("copy", "gopher://host/disk", dir.resolve("out.raw").toString()),
                ExitCodes.FAILURE, "unknown address 'gopher://host/disk'");
    }

    @Test
    void badCommandLines() throws Exception {
        Path src = image("src.raw", 1 << 20);
        String out = dir.resolve("out.raw").toString();
        assertOneLine(Cli.run("copy", "--request-size", "12x", src.toString(), out), ExitCodes.USAGE,
                "'12x' has an unknown unit");
        assertOneLine(Cli.run("copy", "--request-size", "1000", src.toString(), out), ExitCodes.USAGE,
                "request size must be a positive multiple of 4096");
        assertOneLine(Cli.run("copy", src.toString()), ExitCodes.USAGE, "Missing required parameter");
        assertOneLine(Cli.run("map", "--output=xml", src.toString()), ExitCodes.USAGE, "--output must be");
        assertOneLine(Cli.run("frobnicate"), ExitCodes.USAGE, "Unknown command: 'frobnicate'");
        assertOneLine(Cli.run("copy", "--frobnicate", src.toString(), out), ExitCodes.USAGE,
                "Unknown option: '--frobnicate'");
        assertOneLine(Cli.run("copy", src.toString(), out, "extra"), ExitCodes.USAGE, "Unmatched argument: 'extra'");
        assertOneLine(Cli.run("copy", "--request-size"), ExitCodes.USAGE, "Missing value for option '--request-size'");
        assertOneLine(Cli.run("copy", "--connections", "0", src.toString(), out), ExitCodes.USAGE,
                "--connections must be at least 1, got 0");
        assertOneLine(Cli.run("copy", "--connections", "two", src.toString(), out), ExitCodes.USAGE,
                "'two' is not a number");
    }

    @Test
    void fullTargetFileSystem() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 32L << 20, 99, 60, 1 << 20);
        Path mnt = Files.createDirectories(dir.resolve("small-fs"));
        ExternalTool.Result mount = ExternalTool.run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt.toString());
        assertEquals(0, mount.exitCode(), () -> "cannot mount a 4 MiB tmpfs (tests run as root, here and in CI): "
                + mount.stderr());
        try {
            Path dst = mnt.resolve("out.raw");
            // as a process, to see everything a user would see on stderr
            Cli.Result r = Cli.runProcess(List.of(), "copy", src.toString(), dst.toString());
            assertOneLine(r, ExitCodes.FAILURE, "No space left on device");
            assertTrue(r.errLines().get(0).contains("write of "), r::toString);
            assertTrue(r.errLines().get(0).contains("the copy stopped after"), r::toString);
        } finally {
            ExternalTool.check("umount", mnt.toString());
        }
    }

    @Test
    void debugAddsTheStackTrace() {
        Cli.Result r = Cli.run("info", "--debug", dir.resolve("missing.raw").toString());
        assertEquals(ExitCodes.FAILURE, r.exitCode());
        assertTrue(r.errLines().get(0).startsWith("extentflow: "), r::toString);
        assertTrue(r.err().contains("\tat "), r::toString);
    }

    /** {@code r} exited with {@code exitCode} and printed one line, the message, containing {@code expected}. */
    static void assertOneLine(Cli.Result r, int exitCode, String expected) {
        assertEquals(exitCode, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), () -> "one line expected: " + r);
        String line = r.errLines().get(0);
        assertTrue(line.startsWith("extentflow: "), r::toString);
        assertTrue(line.contains(expected), () -> "'" + expected + "' expected in: " + line);
        assertFalse(line.contains("Exception"), r::toString);
    }

    private Path image(String name, long size) throws Exception {
        return image(dir, name, size);
    }

    /** A file of {@code size} bytes in {@code dir} with three bytes of data at its start. */
    static Path image(Path dir, String name, long size) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
            f.write(new byte[] {1, 2, 3});
        }
        return p;
    }
}
