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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InfoAndDemoTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void infoReportsFormatSizesAndAllocationLikeStat() throws Exception {
        Path image = dir.resolve("img.raw");
        List<TestImages.Run> runs = TestImages.randomSparseRaw(image, 20L << 20, 31, 30, 1 << 20);
        String[] stat = ExternalTool.check("stat", "-c", "%b %B", image.toString()).strip().split(" ");
        long allocated = Long.parseLong(stat[0]) * Long.parseLong(stat[1]);

        Cli.Result r = Cli.run("info", "--json", image.toString());

        assertEquals(0, r.exitCode(), r::toString);
        JsonNode j = JSON.readTree(r.out());
        assertEquals("raw", j.get("format").asText());
        assertEquals(20L << 20, j.get("virtual-size").asLong());
        assertEquals(allocated, j.get("actual-size").asLong());
        // SEEK_DATA reports every written run (written zeros too) as data
        assertEquals(runs.stream().mapToLong(TestImages.Run::length).sum(), j.get("data-bytes").asLong());

        Cli.Result human = Cli.run("info", image.toString());
        assertEquals(0, human.exitCode(), human::toString);
        assertTrue(human.out().contains("format: raw\n"), human::toString);
        assertTrue(human.out().contains("virtual size: 20 MiB (20971520 bytes)\n"), human::toString);
        assertTrue(human.out().contains("allocated: "), human::toString);
    }

    @Test
    void infoJsonNamesFactsAsQemuImgDoes() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Path top = dir.resolve("top.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "4M");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=128k", "-b", "base.qcow2",
                "-F", "qcow2", top.toString());
        JsonNode qemu = JSON.readTree(ExternalTool.check("qemu-img", "info", "--output=json", top.toString()));
        Cli.Result r = Cli.run("info", "--json", top.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode ours = JSON.readTree(r.out());
        for (String key : List.of("virtual-size", "actual-size", "cluster-size", "backing-filename",
                "full-backing-filename", "backing-filename-format", "dirty-flag")) {
            assertEquals(qemu.get(key), ours.get(key), () -> key + " in " + ours + " vs qemu-img's " + qemu);
        }
        assertEquals(qemu.at("/format-specific/type"), ours.at("/format-specific/type"), ours::toString);
        for (String key : List.of("compat", "compression-type", "lazy-refcounts", "refcount-bits", "corrupt",
                "extended-l2")) {
            assertEquals(qemu.at("/format-specific/data/" + key), ours.at("/format-specific/data/" + key),
                    () -> key + " in " + ours + " vs qemu-img's " + qemu);
        }
        ours.fieldNames().forEachRemaining(k -> assertTrue(k.matches("[a-z0-9-]+"), "kebab-case key: " + k));
    }

    @Test
    void demoRemovesItsTemporaryDirectoryUnlessAskedToKeepIt() throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        List<String> withTmp = List.of("env", "JAVA_TOOL_OPTIONS=-Djava.io.tmpdir=" + tmp);
        Cli.Result r = Cli.runProcess(withTmp, "demo");
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("Verified: the copy is identical"), r::toString);
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "the demo leaves nothing in the temporary directory");
        }
        Cli.Result kept = Cli.runProcess(withTmp, "demo", "--keep");
        assertEquals(0, kept.exitCode(), kept::toString);
        try (var left = Files.list(tmp)) {
            List<Path> dirs = left.toList();
            assertEquals(1, dirs.size(), dirs::toString);
            assertTrue(Files.exists(dirs.get(0).resolve("disk.raw")), "--keep keeps the sample");
            assertTrue(kept.out().contains("map --output=json " + dirs.get(0).resolve("disk.raw")), kept::toString);
        }
    }

    @Test
    void demoCopiesVerifiesAndSuggestsNextSteps() throws Exception {
        Cli.Result r = Cli.run("demo", "--dir", dir.toString());

        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains("Verified: the copy is identical"), r::toString);
        assertTrue(r.out().contains("map --output=json " + dir.resolve("disk.raw")), r::toString);
        TestImages.assertSameContent(dir.resolve("disk.raw"), dir.resolve("copy.raw"));
        assertEquals(Files.size(dir.resolve("disk.raw")), DemoImage.SIZE);
        assertEquals("", r.err());
    }
}
