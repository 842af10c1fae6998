package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code extentflow measure}: its {@code required} is exactly the length of the qcow2 image that a copy
 * writes in one pass (so a ticket's file of that size holds it), never more than {@code qemu-img
 * measure}'s (which counts the metadata of a fully allocated image), and its {@code fully-allocated}
 * is qemu-img's; the text and JSON are qemu-img's.
 */
class MeasureCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SIZE = (40L << 20) + (20 << 10);

    @TempDir
    static Path dir;

    @BeforeAll
    static void images() throws Exception {
        Path raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, SIZE, 57, 30, 1 << 20);
        // data, zero clusters and unallocated clusters
        Path qcow2 = dir.resolve("src.qcow2");
        ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=32768",
                raw.toString(), qcow2.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -z 3M 1M", "-c", "write -P 5 9M 100k",
                qcow2.toString());
        // a 1 TiB image with a little data near both ends: the metadata of a large disk
        Path big = dir.resolve("big.raw");
        ExternalTool.check("truncate", "-s", "1T", big.toString());
        ExternalTool.check("qemu-io", "-f", "raw", "-c", "write -P 7 1M 200k", "-c", "write -P 9 1023G 3M",
                big.toString());
    }

    private static JsonNode measured(String... args) throws Exception {
        Cli.Result r = Cli.run(args);
        assertEquals(0, r.exitCode(), r.toString());
        return JSON.readTree(r.out());
    }

    @ParameterizedTest(name = "{0}, {1} clusters")
    @CsvSource({"src.raw,4K", "src.raw,64K", "src.raw,2M", "src.qcow2,4K", "src.qcow2,64K", "src.qcow2,2M",
            "big.raw,64K", "big.raw,2M"})
    void requiredIsExactlyWhatTheOnePassWriterEmitsAndNoMoreThanQemuImgSays(String name, String clusterSize)
            throws Exception {
        Path source = dir.resolve(name);
        JsonNode ours = measured("measure", "--output-format", "qcow2", "--cluster-size", clusterSize,
                "--output=json", source.toString());
        JsonNode qemu = JSON.readTree(ExternalTool.check("qemu-img", "measure", "-O", "qcow2", "-o",
                "cluster_size=" + Sizes.parse(clusterSize), "--output=json", source.toString()));
        System.out.println(name + ", " + clusterSize + " clusters: extentflow " + ours + ", qemu-img " + qemu);

        Path out = dir.resolve(name + "." + clusterSize + ".qcow2");
        ExternalTool.Result copy = ExternalTool.run("bash", "-o", "pipefail", "-c", Cli.shellCommand() + " copy '"
                + source + "' - --output-format qcow2 --cluster-size " + clusterSize + " > '" + out + "'");
        assertEquals(0, copy.exitCode(), copy.toString());
        assertEquals(Files.size(out), ours.get("required").asLong(), "the streamed image is as long as measured");
        Files.delete(out);

        assertTrue(ours.get("required").asLong() <= qemu.get("required").asLong(), "no more than qemu-img's");
        assertEquals(qemu.get("fully-allocated").asLong(), ours.get("fully-allocated").asLong());
    }

    @Test
    void theTextIsQemuImgs() throws Exception {
        Path raw = dir.resolve("src.raw");
        Cli.Result human = Cli.run("measure", "--output-format", "qcow2", raw.toString());
        assertEquals(0, human.exitCode(), human.toString());
        JsonNode json = measured("measure", "--output-format", "qcow2", "--output=json", raw.toString());
        assertEquals(List.of("required size: " + json.get("required").asLong(),
                "fully allocated size: " + json.get("fully-allocated").asLong()), human.out().lines().toList());
        assertEquals(List.of("required", "fully-allocated"), iterable(json.fieldNames()));
        // raw, the default as for qemu-img: the image's size both times
        String qemuRaw = ExternalTool.check("qemu-img", "measure", "-O", "raw", raw.toString());
        assertEquals(qemuRaw, Cli.run("measure", raw.toString()).out());
        assertEquals(qemuRaw, Cli.run("measure", "--output-format", "raw", raw.toString()).out());
    }

    private static List<String> iterable(java.util.Iterator<String> names) {
        List<String> all = new java.util.ArrayList<>();
        names.forEachRemaining(all::add);
        return all;
    }

    @Test
    void badOptionsAreOneLine() {
        Path raw = dir.resolve("src.raw");
        for (List<String> args : List.of(
                List.of("--output=xml"),
                List.of("--output-format", "vmdk"),
                List.of("--output-format", "qcow2", "--cluster-size", "3000"),
                List.of("--cluster-size", "64K"),
                List.of("--output-format", "qcow2", "--compress"))) {
            List<String> all = new java.util.ArrayList<>(List.of("measure", raw.toString()));
            all.addAll(args);
            Cli.Result r = Cli.run(all.toArray(String[]::new));
            assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
            assertEquals(1, r.errLines().size(), r.toString());
            assertTrue(r.err().startsWith("extentflow"), r.toString());
        }
        Cli.Result missing = Cli.run("measure", dir.resolve("missing.raw").toString());
        assertEquals(1, missing.errLines().size(), missing.toString());
        assertTrue(missing.err().contains("missing.raw"), missing.toString());
    }
}
