package io.extentflow.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.QemuImg;
import io.extentflow.engine.testing.TestImages;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import io.extentflow.engine.testing.NettyLeaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;

/** The embedding sample: POST /copy streams NDJSON progress ending at the image size, or an error line. */
@ExtendWith(NettyLeaks.class)
class CopyServiceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @Test
    void streamsProgressOfACopy() throws Exception {
        Path raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, SIZE, 81, 40, 256 << 10);
        Path qcow2 = dir.resolve("src.qcow2");
        ExternalTool.check("qemu-img", "convert", "-q", "-O", "qcow2", raw.toString(), qcow2.toString());
        Path target = dir.resolve("dst.raw");
        DisposableServer server = CopyService.start(0);
        try {
            List<JsonNode> lines = post(server, "{\"source\":\"" + qcow2 + "\",\"target\":\"" + target + "\"}");
            JsonNode last = lines.getLast();
            assertEquals(SIZE, last.get("size").asLong(), lines.toString());
            assertEquals(SIZE, last.get("done").asLong(), lines.toString());
            for (int i = 1; i < lines.size(); i++) {
                assertTrue(lines.get(i).get("done").asLong() >= lines.get(i - 1).get("done").asLong());
            }
            TestImages.assertSameContent(raw, target);

            List<JsonNode> failed = post(server, "{\"source\":\"" + dir.resolve("nope.raw") + "\",\"target\":\""
                    + target + "\"}");
            assertEquals(1, failed.size());
            assertTrue(failed.get(0).get("error").asText().contains("nope.raw"), failed.toString());
            List<JsonNode> bad = post(server, "{\"source\":");
            assertTrue(bad.get(0).get("error").asText().contains("malformed JSON"), bad.toString());
        } finally {
            server.disposeNow();
        }
    }

    @Test
    void endpointOptionsByNameShapeAQcow2Target() throws Exception {
        Path raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, SIZE, 82, 40, 256 << 10);
        Path target = dir.resolve("dst.img");
        DisposableServer server = CopyService.start(0);
        try {
            List<JsonNode> lines = post(server, "{\"source\":\"" + raw + "\",\"target\":\"" + target
                    + "\",\"options\":{\"output-format\":\"qcow2\",\"cluster_size\":\"16K\",\"compress\":true}}");
            assertEquals(SIZE, lines.getLast().get("done").asLong(), lines.toString());
            JsonNode check = QemuImg.check(target);
            assertTrue(check.path("compressed-clusters").asLong() > 0, check::toString);
            QemuImg.compare(raw, target);
            JsonNode info = QemuImg.info(target);
            assertEquals(16384, info.get("cluster-size").asInt(), info::toString);
            assertEquals("zstd", info.at("/format-specific/data/compression-type").asText(), info::toString);

            List<JsonNode> bad = post(server, "{\"source\":\"" + raw + "\",\"target\":\"" + dir.resolve("b.qcow2")
                    + "\",\"options\":{\"cluster_size\":\"3K\"}}");
            assertTrue(bad.getLast().get("error").asText().contains("power of two"), bad.toString());
            // an option the target does not take is refused, named as the caller spelt it; nothing is written
            Path plain = dir.resolve("plain.raw");
            List<JsonNode> refused = post(server, "{\"source\":\"" + raw + "\",\"target\":\"" + plain
                    + "\",\"options\":{\"compress\":true}}");
            assertEquals("\"compress\" does not apply to target " + plain + " (raw file); it applies to: qcow2 file "
                    + "targets", refused.getLast().get("error").asText(), refused.toString());
            assertFalse(Files.exists(plain), refused.toString());
        } finally {
            server.disposeNow();
        }
    }

    private static List<JsonNode> post(DisposableServer server, String body) {
        String text = HttpClient.create().host("127.0.0.1").port(server.port())
                .post().uri("/copy")
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8))))
                .responseSingle((resp, bytes) -> bytes.asString())
                .block(Duration.ofSeconds(30));
        List<JsonNode> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            try {
                out.add(JSON.readTree(line));
            } catch (Exception e) {
                throw new AssertionError("not an NDJSON line: " + line, e);
            }
        }
        return out;
    }
}
