package io.extentflow.cli;

import static io.extentflow.cli.BadInputTest.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.QemuImg;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The qcow2 target's options on the command line ({@code --output-format}, {@code --cluster-size},
 * {@code --compress[=zlib|zstd]}, {@code --backing}, {@code --backing-format}) shape the image as
 * qemu-img sees it, and a bad one is one line that leaves no file.
 */
class Qcow2OptionsTest {

    /** Not a multiple of 2 MiB: the last cluster is short. */
    private static final long SIZE = (5L << 20) + (12 << 10);

    @TempDir
    static Path dir;
    private static Path source;
    private static Path base;

    @BeforeAll
    static void images() throws Exception {
        source = dir.resolve("source.raw");
        TestImages.randomSparseRaw(source, SIZE, 71, 50, 192 << 10);
        base = dir.resolve("base.raw");
        TestImages.randomSparseRaw(base, SIZE, 72, 80, 1 << 20);
    }

    @ParameterizedTest(name = "copy {0}")
    @CsvSource(delimiter = '|', value = {
        "--cluster-size 4K --compress=zlib       | 4096    | zlib",
        "--cluster-size 2M --compress            | 2097152 | zstd",
        "--cluster-size=16384 --compress=zstd    | 16384   | zstd",
        "--cluster-size 64KiB                    | 65536   | ",
        "''                                      | 65536   | ",
    })
    void clusterSizeAndCompressionAreTheImagesLayout(String options, int clusterSize, String compression)
            throws Exception {
        Path out = dir.resolve("out-" + options.replaceAll("[^a-z0-9]", "") + ".qcow2");
        Cli.Result r = copy(options, source, out);
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode check = QemuImg.check(out);
        QemuImg.compare(source, out);
        JsonNode info = QemuImg.info(out);
        assertEquals("qcow2", info.get("format").asText(), info::toString);
        assertEquals(clusterSize, info.get("cluster-size").asInt(), info::toString);
        if (compression != null) {
            assertEquals(compression, info.at("/format-specific/data/compression-type").asText(), info::toString);
            assertTrue(check.path("compressed-clusters").asLong() > 0, check::toString);
        } else {
            assertEquals(0, check.path("compressed-clusters").asLong(), check::toString);
        }
    }

    @Test
    void anOverlayNamesItsBackingFileAsGivenAndReadsAsTheSourceThroughIt() throws Exception {
        Path out = dir.resolve("overlay.qcow2");
        // a relative name, resolved from the overlay's directory as qemu resolves it
        Cli.Result r = copy("--backing base.raw --backing-format raw --cluster-size 4K", source, out);
        assertEquals(0, r.exitCode(), r::toString);
        QemuImg.check(out);
        QemuImg.compare(source, out);
        JsonNode info = QemuImg.info(out);
        assertEquals("base.raw", info.get("backing-filename").asText(), info::toString);
        assertEquals("raw", info.get("backing-filename-format").asText(), info::toString);

        Path probed = dir.resolve("overlay-probed.qcow2");
        r = copy("--backing " + base, source, probed);
        assertEquals(0, r.exitCode(), r::toString);
        QemuImg.check(probed);
        QemuImg.compare(source, probed);
        info = QemuImg.info(probed);
        assertEquals(base.toString(), info.get("backing-filename").asText(), info::toString);
        assertEquals("raw", info.get("backing-filename-format").asText(), info::toString);
    }

    @Test
    void theOutputFormatWinsOverTheTargetsName() throws Exception {
        Path qcow2 = dir.resolve("named-raw.img");
        Cli.Result r = copy("--output-format qcow2 --compress", source, qcow2);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("qcow2", QemuImg.info(qcow2).get("format").asText());
        QemuImg.check(qcow2);
        QemuImg.compare(source, qcow2);

        Path raw = dir.resolve("named-qcow2.qcow2");
        r = copy("--output-format raw", source, raw);
        assertEquals(0, r.exitCode(), r::toString);
        assertEquals("raw", QemuImg.info(raw).get("format").asText());
        TestImages.assertSameContent(source, raw);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--cluster-size 3000      | 2 | --cluster-size must be a power of two from 4K to 2M (4096 to 2097152 bytes), got '3000'",
        "--cluster-size 4M        | 2 | --cluster-size must be a power of two from 4K to 2M (4096 to 2097152 bytes), got '4M'",
        "--cluster-size 2K        | 2 | --cluster-size must be a power of two from 4K to 2M",
        "--cluster-size 64Q       | 2 | --cluster-size must be a power of two from 4K to 2M",
        "--compress=lz4           | 2 | --compress must be one of zlib, zstd, got 'lz4'",
        "--backing-format vmdk    | 2 | --backing-format must be one of raw, qcow2, got 'vmdk'",
        "--output-format vmdk     | 1 | unknown output format 'vmdk' (known: qcow2, raw)",
        "--output-format qcow2    | 1 | cannot be written as qcow2 (formats written there: raw)",
        "--backing missing.raw    | 1 | backing file missing.raw",
        "--backing-format raw     | 1 | a backing format (raw) needs a backing file",
    })
    void aBadOptionIsOneLineAndLeavesNoFile(String options, int exitCode, String expected) throws Exception {
        // an NBD address cannot be written as qcow2; every other case writes a file
        boolean nbd = options.equals("--output-format qcow2");
        Path out = dir.resolve("bad.qcow2");
        String target = nbd ? "nbd://127.0.0.1:9/x" : out.toString();
        Cli.Result r = Cli.run(words("copy " + options + " " + source + " " + target));
        assertOneLine(r, exitCode, expected);
        assertFalse(Files.exists(out), r::toString);
    }

    @Test
    void aMissingBackingFileIsNamedWithWhereItWasLookedFor() throws Exception {
        Path out = dir.resolve("no-backing.qcow2");
        Cli.Result r = copy("--backing gone/base.raw", source, out);
        assertOneLine(r, ExitCodes.FAILURE, "backing file gone/base.raw (" + dir.resolve("gone/base.raw")
                + ") does not exist");
        assertFalse(Files.exists(out), r::toString);
    }

    @Test
    void standardOutputIsNeverAFileCalledDash() throws Exception {
        Path dash = Path.of("-").toAbsolutePath();
        assertFalse(Files.exists(dash), dash + " is left from an earlier run");
        // in its own process: the image goes to standard output (written in one pass)
        Path out = dir.resolve("dash.qcow2");
        ExternalTool.Result r = ExternalTool.run("bash", "-c", Cli.shellCommand() + " copy --output-format qcow2 '"
                + source + "' - > '" + out + "'");
        assertEquals(0, r.exitCode(), r::toString);
        assertFalse(Files.exists(dash), () -> "a file " + dash + " was written: " + r);
        ExternalTool.check("qemu-img", "check", out.toString());
        ExternalTool.check("qemu-img", "compare", source.toString(), out.toString());
    }

    @Test
    void helpShowsTheOptionalCodec() {
        Cli.Result r = Cli.run("copy", "--help");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("--compress[=zlib|zstd]"), r::toString);
        assertTrue(r.out().contains("--cluster-size=SIZE"), r::toString);
        assertTrue(r.out().contains("--output-format=FORMAT"), r::toString);
    }

    /** {@code extentflow copy OPTIONS SRC DST}, in this JVM. */
    static Cli.Result copy(String options, Path src, Path dst) {
        return Cli.run(words("copy " + options + " " + src + " " + dst));
    }

    private static String[] words(String line) {
        return line.strip().split("\\s+");
    }

    static {
        ExternalTool.require("qemu-img");
    }
}
