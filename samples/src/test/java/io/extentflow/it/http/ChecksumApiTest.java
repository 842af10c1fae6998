package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.checksum.ImageChecksumTest;
import io.extentflow.engine.imageio.ImageioJson;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code /checksum} gives ovirt-imageio's blkhash of the image (checked with Python) and its errors. */
class ChecksumApiTest {

    @TempDir
    Path dir;

    private static String python(Path file, String alg, int blockSize) {
        return ExternalTool.check("python3", "-c", ImageChecksumTest.PYTHON_BLKHASH, file.toString(), alg,
                Integer.toString(blockSize)).strip();
    }

    @Test
    void checksumsMatchTheConstruction() throws Exception {
        long size = (6L << 20) + 4096 * 3;
        Path image = dir.resolve("img.raw");
        TestImages.randomSparseRaw(image, size, 77, 35, 512 << 10);
        try (ServerFixture f = new ServerFixture(dir)) {
            f.addTicket("c", image, size, "read");
            ServerFixture.Reply r = f.request(f.data, HttpMethod.GET, "/images/c/checksum", null);
            assertEquals(200, r.status(), r.body());
            var json = ImageioJson.MAPPER.readTree(r.body());
            assertEquals("blake2b", json.get("algorithm").asText());
            assertEquals(4 << 20, json.get("block_size").asInt());
            assertEquals(python(image, "blake2b", 4 << 20), json.get("checksum").asText());

            var sha = ImageioJson.MAPPER.readTree(f.request(f.data, HttpMethod.GET,
                    "/images/c/checksum?algorithm=sha256&block_size=1048576", null).body());
            assertEquals(python(image, "sha256", 1 << 20), sha.get("checksum").asText());

            ServerFixture.Reply algs = f.request(f.data, HttpMethod.GET, "/images/anything/checksum/algorithms", null);
            assertEquals(200, algs.status());
            assertTrue(algs.body().contains("\"blake2b\""), algs.body());

            assertEquals("Invalid block size: '100M'\n",
                    f.request(f.data, HttpMethod.GET, "/images/c/checksum?block_size=100M", null).body());
            assertEquals("Block size out of allowed range: 1048576-16777216\n",
                    f.request(f.data, HttpMethod.GET, "/images/c/checksum?block_size=4096", null).body());
            assertEquals("Block size is not aligned to 4096\n",
                    f.request(f.data, HttpMethod.GET, "/images/c/checksum?block_size=1048577", null).body());
            assertEquals(400, f.request(f.data, HttpMethod.GET, "/images/c/checksum?algorithm=crc", null).status());
            assertEquals(403, f.request(f.data, HttpMethod.GET, "/images/nope/checksum", null).status());
        }
    }
}
