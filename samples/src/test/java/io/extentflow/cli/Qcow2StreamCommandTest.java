package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code extentflow copy IMAGE - --output-format qcow2 > x.qcow2}, as a user types it: a qcow2 image
 * written in one pass to standard output (a file or a pipe) or to a named pipe, checked with qemu-img;
 * a stream that is killed or cut short does not pass for a whole image.
 */
class Qcow2StreamCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SIZE = (24L << 20) + (20 << 10);

    @TempDir
    static Path dir;
    private static Path raw;
    private static Path qcow2;

    @BeforeAll
    static void images() throws Exception {
        raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, SIZE, 91, 40, 1 << 20);
        // data, zero clusters and unallocated clusters, in 32 KiB clusters
        qcow2 = dir.resolve("src.qcow2");
        ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=32768",
                raw.toString(), qcow2.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -z 3M 1M", "-c", "write -P 5 9M 100k",
                qcow2.toString());
    }

    private static ExternalTool.Result shell(String script) {
        return ExternalTool.run("bash", "-o", "pipefail", "-c", script);
    }

    private static void assertWholeImageOf(Path source, Path image) throws Exception {
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", image.toString()));
        assertEquals("qcow2", info.get("format").asText(), info::toString);
        ExternalTool.check("qemu-img", "check", image.toString());
        ExternalTool.check("qemu-img", "compare", source.toString(), image.toString());
    }

    @ParameterizedTest(name = "from {0}, {1} clusters")
    @CsvSource({"src.raw,4K", "src.raw,64K", "src.raw,2M", "src.qcow2,4K", "src.qcow2,64K", "src.qcow2,2M"})
    void standardOutputRedirectedToAFileIsAQcow2Image(String name, String clusterSize) throws Exception {
        Path source = dir.resolve(name);
        Path out = dir.resolve(name + "." + clusterSize + ".stdout.qcow2");
        ExternalTool.Result r = shell(Cli.shellCommand() + " copy '" + source + "' - --output-format qcow2 --cluster-size "
                + clusterSize + " > '" + out + "'");
        assertEquals(0, r.exitCode(), r.toString());
        assertWholeImageOf(source, out);
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", out.toString()));
        assertEquals(Sizes.parse(clusterSize), info.get("cluster-size").asLong());
    }

    @ParameterizedTest(name = "from {0}")
    @ValueSource(strings = {"src.raw", "src.qcow2"})
    void aPipeCarriesAQcow2Image(String name) throws Exception {
        Path source = dir.resolve(name);
        Path out = dir.resolve(name + ".pipe.qcow2");
        ExternalTool.Result r = shell(Cli.shellCommand() + " copy '" + source + "' - --output-format qcow2 | gzip -1 "
                + "| gzip -d > '" + out + "'");
        assertEquals(0, r.exitCode(), r.toString());
        assertWholeImageOf(source, out);
    }

    @Test
    void aNamedPipeTargetWithTheQcow2FormatGetsAQcow2Image() throws Exception {
        Path fifo = dir.resolve("target.fifo");
        ExternalTool.check("mkfifo", fifo.toString());
        Path out = dir.resolve("fifo.qcow2");
        ExternalTool.Result r = shell("cat '" + fifo + "' > '" + out + "' & " + Cli.shellCommand() + " copy '" + qcow2
                + "' '" + fifo + "' --output-format qcow2; s=$?; wait; exit $s");
        assertEquals(0, r.exitCode(), r.toString());
        assertWholeImageOf(qcow2, out);
    }

    @Test
    void withoutTheFormatStandardOutputStaysASparseStream() throws Exception {
        Path out = dir.resolve("plain.sparse");
        ExternalTool.Result r = shell(Cli.shellCommand() + " copy '" + raw + "' - > '" + out + "'");
        assertEquals(0, r.exitCode(), r.toString());
        assertNotEquals(0x514649fb, ByteBuffer.wrap(Files.readAllBytes(out)).getInt(0));
    }

    @Test
    void aSparseGibibyteStreamsWhole() throws Exception {
        Path big = dir.resolve("big.raw");
        TestImages.randomSparseRaw(big, 1L << 30, 92, 4, 2 << 20);
        Path out = dir.resolve("big.qcow2");
        ExternalTool.Result r = shell(Cli.shellCommand() + " copy '" + big + "' - --output-format qcow2 | cat > '"
                + out + "'");
        assertEquals(0, r.exitCode(), r.toString());
        assertWholeImageOf(big, out);
        // only the data's clusters are stored
        assertTrue(Files.size(out) < Files.size(big) / 8, "image file of " + Files.size(out) + " bytes");
    }

    @Test
    void aStreamCutShortFailsTheCopyAndFailsCheck() throws Exception {
        Path out = dir.resolve("cut.qcow2");
        ExternalTool.Result r = shell(Cli.shellCommand() + " copy '" + raw + "' - --output-format qcow2 | head -c 3000000 > '"
                + out + "'");
        assertNotEquals(0, r.exitCode(), r.toString());
        assertEquals(3_000_000, Files.size(out));
        ExternalTool.Result check = ExternalTool.run("qemu-img", "check", out.toString());
        assertNotEquals(0, check.exitCode(), check.stdout());
    }

    @Test
    void aKilledCopyToAFileLeavesNoQcow2ImageOrAWholeOne() throws Exception {
        Path big = dir.resolve("kill.raw");
        TestImages.randomSparseRaw(big, 256L << 20, 93, 90, 4 << 20);
        Path out = dir.resolve("killed.qcow2");
        List<String> command = new ArrayList<>(Cli.javaCommand());
        command.addAll(List.of("copy", big.toString(), "-", "--output-format", "qcow2"));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectOutput(out.toFile()).start();
        try {
            Await.until(Duration.ofMinutes(1), "16 MiB written", () -> out.toFile().length() > 16 << 20);
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
        JsonNode info = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", out.toString()));
        if (info.get("format").asText().equals("qcow2")) {
            assertWholeImageOf(big, out); // the copy had ended
        } else {
            assertEquals("raw", info.get("format").asText(), info::toString);
        }
    }

    @Test
    void whatCannotBeStreamedIsOneLine() throws Exception {
        // a stream source has no size before its end
        ExternalTool.Result r = shell(Cli.shellCommand() + " copy '" + raw + "' - | " + Cli.shellCommand()
                + " copy - - --output-format qcow2 > /dev/null");
        assertNotEquals(0, r.exitCode(), r.toString());
        assertTrue(r.stderr().lines().anyMatch(l -> l.contains("needs its size before the first byte")), r.stderr());
        // compression and backing files need a file target
        for (String option : List.of("--compress", "--compress=zlib", "--backing " + raw)) {
            r = shell(Cli.shellCommand() + " copy '" + raw + "' - --output-format qcow2 " + option + " > /dev/null");
            assertNotEquals(0, r.exitCode(), r.toString());
            assertEquals(1, r.stderr().lines().filter(l -> !l.isBlank()).count(), r.stderr());
            assertTrue(r.stderr().contains("does not apply to target - (qcow2 stream)")
                    && r.stderr().contains("qcow2 file targets"), r.stderr());
        }
        // standard output appended to a file that holds something
        Path full = dir.resolve("full.qcow2");
        Files.writeString(full, "something");
        r = shell(Cli.shellCommand() + " copy '" + raw + "' - --output-format qcow2 >> '" + full + "'");
        assertNotEquals(0, r.exitCode(), r.toString());
        assertEquals(1, r.stderr().lines().filter(l -> !l.isBlank()).count(), r.stderr());
        assertTrue(r.stderr().contains("already holds 9 bytes"), r.stderr());
        assertEquals("something", Files.readString(full));
    }
}
