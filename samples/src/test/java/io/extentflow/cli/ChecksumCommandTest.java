package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code extentflow checksum}: one value per content, whatever the format or transport. */
class ChecksumCommandTest {

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    static String checksum(String image) {
        Cli.Result r = Cli.run("checksum", image);
        assertEquals(ExitCodes.OK, r.exitCode(), r.toString());
        return r.out().split("\\s+")[0];
    }

    @Test
    void sameContentSameChecksumAcrossFormatsAndNbd() throws Exception {
        Path raw = dir.resolve("img.raw");
        TestImages.randomSparseRaw(raw, 20L << 20, 4, 40, 2 << 20);
        Path qcow2 = dir.resolve("img.qcow2");
        ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-c", raw.toString(), qcow2.toString());
        NbdServers.Server nbd = servers.qemuNbd(dir, "-f", "qcow2", "-r", qcow2.toString());
        String expected = checksum(raw.toString());
        assertTrue(expected.matches("[0-9a-f]{64}"), expected);
        assertEquals(expected, checksum(qcow2.toString()));
        assertEquals(expected, checksum(nbd.uri()));

        Path changed = dir.resolve("changed.raw");
        Files.copy(raw, changed);
        try (RandomAccessFile f = new RandomAccessFile(changed.toFile(), "rw")) {
            f.seek(12_345_678);
            f.write(f.read() ^ 1);
        }
        assertNotEquals(expected, checksum(changed.toString()));
    }

    @Test
    void jsonIsImageiosReplyShape() throws Exception {
        Path raw = dir.resolve("img.raw");
        TestImages.randomSparseRaw(raw, 3L << 20, 5, 50, 1 << 20);
        Cli.Result r = Cli.run("checksum", "--json", "--block-size", "1M", raw.toString());
        JsonNode n = new ObjectMapper().readTree(r.out());
        assertEquals("blake2b", n.get("algorithm").asText());
        assertEquals(1 << 20, n.get("block_size").asInt());
        assertTrue(n.get("checksum").asText().matches("[0-9a-f]{64}"));
        assertEquals(ExitCodes.USAGE, Cli.run("checksum", "--block-size", "100", raw.toString()).exitCode());
    }
}
