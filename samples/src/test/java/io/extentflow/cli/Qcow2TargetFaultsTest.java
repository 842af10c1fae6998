package io.extentflow.cli;

import static io.extentflow.cli.BadInputTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.QemuImg;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Faults while {@code extentflow copy} writes a qcow2 target: the file system fills up, or the process
 * is killed. Either way the user sees at most one line, and what is left on disk is no qcow2 image
 * that reads wrong: the file is gone, or qemu does not take it for qcow2 (its magic is written last),
 * or, when the copy had ended before the kill, it is the whole image.
 */
class Qcow2TargetFaultsTest {

    @TempDir
    Path dir;

    @ParameterizedTest(name = "copy {0}")
    @ValueSource(strings = {"--cluster-size 64K", "--cluster-size 4K --compress=zlib", "--cluster-size 2M --compress"})
    void aFullFileSystemIsOneLineAndLeavesNoImage(String options) throws Exception {
        Path src = dir.resolve("src.raw");
        // random data: compressed or not, it does not fit into 4 MiB
        TestImages.randomSparseRaw(src, 32L << 20, 98, 60, 1 << 20);
        Path mnt = Files.createDirectories(dir.resolve("small-fs"));
        ExternalTool.Result mount = ExternalTool.run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt.toString());
        assertEquals(0, mount.exitCode(), () -> "cannot mount a 4 MiB tmpfs (tests run as root, here and in CI): "
                + mount.stderr());
        try {
            Path dst = mnt.resolve("out.qcow2");
            List<String> args = new ArrayList<>(List.of("copy"));
            args.addAll(List.of(options.split(" ")));
            args.addAll(List.of(src.toString(), dst.toString()));
            // as a process, to see everything a user would see on stderr
            Cli.Result r = Cli.runProcess(List.of(), args.toArray(String[]::new));
            assertOneLine(r, ExitCodes.FAILURE, "No space left on device");
            assertTrue(r.errLines().getFirst().contains(dst.toString()), r::toString);
            assertTrue(r.errLines().getFirst().contains("the copy stopped after"), r::toString);
            assertTrue(Files.notExists(dst), () -> "the target the copy created is left: " + r);
        } finally {
            ExternalTool.check("umount", mnt.toString());
        }
    }

    @ParameterizedTest(name = "copy {0}")
    @ValueSource(strings = {"--cluster-size 64K", "--cluster-size 4K --compress=zlib --backing base.raw"})
    void aKilledCopyLeavesNoQcow2ImageOrAWholeOne(String options) throws Exception {
        Path big = dir.resolve("big.raw");
        TestImages.randomSparseRaw(big, 256L << 20, 63, 90, 4 << 20);
        TestImages.randomSparseRaw(dir.resolve("base.raw"), 256L << 20, 64, 30, 4 << 20);
        Path out = dir.resolve("killed.qcow2");
        List<String> command = new ArrayList<>(Cli.javaCommand());
        command.add("copy");
        command.addAll(List.of(options.split(" ")));
        command.addAll(List.of(big.toString(), out.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            // data is being written (the finished image has some 230 MiB; the file goes only if the copy fails)
            Await.until(Duration.ofMinutes(1), "16 MiB written", () -> out.toFile().length() > 16 << 20);
        } finally {
            p.destroyForcibly(); // SIGKILL: no shutdown hook runs
            p.waitFor();
        }
        // killed at any moment: either not a qcow2 image at all, or (the copy had ended) a whole one
        JsonNode info = QemuImg.info(out);
        if (info.get("format").asText().equals("qcow2")) {
            QemuImg.check(out);
            QemuImg.compare(big, out);
        } else {
            assertEquals("raw", info.get("format").asText(), info::toString);
        }
    }

    static {
        ExternalTool.require("qemu-img");
    }
}
