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
        assertEquals(allocated, j.get("allocated-bytes").asLong());
        // SEEK_DATA reports every written run (written zeros too) as data
        assertEquals(runs.stream().mapToLong(TestImages.Run::length).sum(), j.get("data-bytes").asLong());

        Cli.Result human = Cli.run("info", image.toString());
        assertEquals(0, human.exitCode(), human::toString);
        assertTrue(human.out().contains("format: raw\n"), human::toString);
        assertTrue(human.out().contains("virtual size: 20 MiB (20971520 bytes)\n"), human::toString);
        assertTrue(human.out().contains("allocated: "), human::toString);
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
