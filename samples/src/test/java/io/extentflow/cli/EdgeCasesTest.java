package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.extentflow.cli.BadInputTest.assertOneLine;

import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The edges of the command line (issue 21): each mistake is answered with one clear line on
 * standard error and the right exit code, never a silent surprise.
 */
class EdgeCasesTest {

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @Test
    void maxInFlightBelowOneRequestIsRefused() throws Exception {
        Path src = image("src.raw", 1 << 20);
        String out = dir.resolve("out.raw").toString();
        assertOneLine(Cli.run("copy", "--max-in-flight", "1", src.toString(), out), ExitCodes.USAGE,
                "--max-in-flight 1 must be at least the request size (4 MiB)");
        assertOneLine(Cli.run("copy", "--request-size", "1M", "--max-in-flight", "512K", src.toString(), out),
                ExitCodes.USAGE, "must be at least the request size (1 MiB)");
        Cli.Result ok = Cli.run("copy", "--request-size", "64K", "--max-in-flight", "64K", src.toString(), out);
        assertEquals(ExitCodes.OK, ok.exitCode(), ok::toString);
    }

    @Test
    void requestSizeZeroIsRefusedAndAutoIsTheWord() throws Exception {
        Path src = image("src.raw", 1 << 20);
        String out = dir.resolve("out.raw").toString();
        assertOneLine(Cli.run("copy", "--request-size", "0", src.toString(), out), ExitCodes.USAGE,
                "request size must be a positive multiple of 4096, or 'auto'");
        Cli.Result ok = Cli.run("copy", "--request-size", "auto", src.toString(), out);
        assertEquals(ExitCodes.OK, ok.exitCode(), ok::toString);
    }

    @Test
    void targetThatCannotBeOpenedIsNamedWithTheOperation() throws Exception {
        Path src = image("src.raw", 1 << 20);
        Path ro = Files.createDirectories(dir.resolve("read-only-fs"));
        ExternalTool.Result mount = ExternalTool.run("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro.toString());
        assertEquals(0, mount.exitCode(), () -> "cannot mount a read-only tmpfs (tests run as root): " + mount.stderr());
        try {
            Path dst = ro.resolve("out.raw");
            assertOneLine(Cli.run("copy", src.toString(), dst.toString()), ExitCodes.FAILURE,
                    "cannot open " + dst + " for writing: read-only file system");
        } finally {
            ExternalTool.check("umount", ro.toString());
        }
        // EACCES: a directory nobody may write to, for a root without the capability that bypasses it
        Path locked = Files.createDirectories(dir.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        ExternalTool.require("setpriv");
        Path dst = locked.resolve("out.raw");
        assertOneLine(Cli.runProcess(List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search"),
                "copy", src.toString(), dst.toString()), ExitCodes.FAILURE,
                "cannot open " + dst + " for writing: permission denied");
    }

    @Test
    void nbdServersThatAreNotThereAreNamed() throws Exception {
        String out = dir.resolve("out.raw").toString();
        try (var listener = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            // a port just freed: nothing listens on it
            int port = listener.getLocalPort();
            listener.close();
            String uri = "nbd://127.0.0.1:" + port + "/";
            // refused connections are tried again, as a server may be restarting: the line says how often
            assertOneLine(Cli.run("copy", uri, out), ExitCodes.FAILURE,
                    "cannot connect to " + uri + ": connection refused (after "
                            + (NbdClientOptions.DEFAULT_RETRIES + 1) + " attempts)");
        }
        Path missing = dir.resolve("nonexistent.sock");
        String unix = "nbd+unix:///?socket=" + missing;
        Cli.Result r = Cli.run("info", unix);
        assertOneLine(r, ExitCodes.FAILURE, "cannot connect to ");
        assertTrue(r.errLines().get(0).endsWith(": no such socket " + missing), r::toString);
    }

    @Test
    void aFileIsNotCopiedOntoItself() throws Exception {
        Path src = image("src.raw", 1 << 20);
        byte[] before = Files.readAllBytes(src);
        Path symlink = Files.createSymbolicLink(dir.resolve("link.raw"), src);
        Path hardLink = Files.createLink(dir.resolve("hard.raw"), src);
        Path dotted = dir.resolve(".").resolve("src.raw");
        for (Path target : List.of(src, dotted, symlink, hardLink)) {
            assertOneLine(Cli.run("copy", src.toString(), target.toString()), ExitCodes.FAILURE,
                    "source and target are the same file");
        }
        assertArrayEquals(before, Files.readAllBytes(src));
    }

    @Test
    void httpServerThatIsNotThereIsOneLineAndRetriesShowWithDebug() throws Exception {
        int port;
        try (var listener = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = listener.getLocalPort(); // freed below: nothing listens on it
        }
        String url = "http://127.0.0.1:" + port + "/images/x";
        String out = dir.resolve("out.raw").toString();
        // as a process: the retries were java.util.logging lines on the process's standard error
        Cli.Result r = Cli.runProcess(List.of(), "copy", "--retries", "2", url, out);
        assertOneLine(r, ExitCodes.FAILURE, "cannot connect to " + url + ": connection refused (after 3 attempts)");
        Cli.Result debug = Cli.runProcess(List.of(), "--debug", "copy", "--retries", "2", url, out);
        assertEquals(ExitCodes.FAILURE, debug.exitCode(), debug::toString);
        assertTrue(debug.err().contains("retrying "), debug::toString);
    }

    @Test
    void aMissingBackingFileIsNamedWithTheOverlayAndTheNameInItsHeader() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Path top = dir.resolve("top.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "1M");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
                top.toString());
        Files.delete(base);
        for (String command : List.of("info", "map")) {
            Cli.Result r = Cli.run(command, top.toString());
            assertOneLine(r, ExitCodes.FAILURE, base + ": no such file: backing file of " + top);
            assertTrue(r.errLines().get(0).contains("'base.qcow2'"), r::toString);
        }
    }

    @Test
    void targetIsZeroOnATargetThatIsNotIsCaughtByVerify() throws Exception {
        Path src = image("src.raw", 1 << 20); // data at its start, zeros after
        Path dst = dir.resolve("dst.raw");
        try (RandomAccessFile f = new RandomAccessFile(dst.toFile(), "rw")) {
            f.setLength(1 << 20);
            f.seek(512 << 10);
            f.write(new byte[] {7, 7, 7}); // old bytes in a range the source has as zeros
        }
        // the promise is the user's: without --verify the copy believes it
        Cli.Result trusted = Cli.run("copy", "--target-is-zero", src.toString(), dst.toString());
        assertEquals(ExitCodes.OK, trusted.exitCode(), trusted::toString);
        Cli.Result verified = Cli.run("copy", "--target-is-zero", "--verify", src.toString(), dst.toString());
        assertEquals(ExitCodes.FAILURE, verified.exitCode(), verified::toString);
        assertEquals(1, verified.errLines().size(), verified::toString);
        String readme = Files.readString(Path.of(System.getProperty("user.dir")).getParent().resolve("README.md"));
        int promise = readme.indexOf("`--target-is-zero` is the user's promise");
        assertTrue(promise >= 0 && readme.indexOf("`--verify`", promise) > promise,
                "README explains --target-is-zero and names --verify as its check");
    }

    private Path image(String name, long size) throws Exception {
        return BadInputTest.image(dir, name, size);
    }
}
