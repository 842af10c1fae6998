package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.io.Posix;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code extentflow copy IMAGE - | extentflow copy - TARGET}, as a user types it. */
class StreamCommandTest {

    @TempDir
    Path dir;

    @Test
    void aPipeBetweenTwoCommandsCopiesExactlyAndStaysSparse() throws Exception {
        Path raw = dir.resolve("src.raw");
        Path qcow2 = dir.resolve("src.qcow2");
        TestImages.randomSparseRaw(raw, 32L << 20, 5, 30, 2 << 20);
        ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), qcow2.toString());
        Path back = dir.resolve("back.raw");
        String cli = Cli.shellCommand();
        ExternalTool.Result r = ExternalTool.run("bash", "-o", "pipefail", "-c",
                cli + " copy '" + qcow2 + "' - | gzip -1 | gzip -d | " + cli + " copy - '" + back + "'");
        assertEquals(0, r.exitCode(), r.stderr());
        assertTrue(r.stderr().contains("copied"), "the summary of the writer goes to stderr: " + r.stderr());
        TestImages.assertSameContent(raw, back);
        assertTrue(Posix.allocatedBytes(back) <= Posix.allocatedBytes(raw) + (1 << 20), "not sparse");
    }

    @Test
    void aTruncatedStreamFailsSayingWhereAndHowFarTheCopyGot() throws Exception {
        Path raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, 16L << 20, 6, 50, 1 << 20);
        Path back = dir.resolve("back.raw");
        String cli = Cli.shellCommand();
        ExternalTool.Result r = ExternalTool.run("bash", "-o", "pipefail", "-c",
                cli + " copy '" + raw + "' - | head -c 5000000 | " + cli + " copy - '" + back + "'");
        assertEquals(ExitCodes.FAILURE, r.exitCode(), r.toString());
        // the reader's line (the writer may also report its broken pipe, in either order)
        assertTrue(r.stderr().lines().anyMatch(l -> l.startsWith("extentflow: sparse stream: ")
                && l.contains("stream offset") && l.contains("the copy stopped after")), r.stderr());
    }
}
