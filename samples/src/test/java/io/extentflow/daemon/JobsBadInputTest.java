package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.testing.TestImages;
import io.netty.handler.codec.http.HttpMethod;
import java.net.ServerSocket;
import java.nio.file.Path;
import io.extentflow.engine.testing.NettyLeaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Bad requests get a 400 naming the problem, unreachable endpoints a failed job; the daemon keeps serving. */
@ExtendWith(NettyLeaks.class)
class JobsBadInputTest {

    @TempDir
    Path dir;

    @Test
    void badRequestsAndUnreachableEndpoints() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 2 << 20, 51, 50, 64 << 10);
        String dst = dir.resolve("dst.raw").toString();
        try (DaemonFixture f = new DaemonFixture(dir)) {
            assertBad(f, "{\"source\":\"ftp://host/disk\",\"target\":\"" + dst + "\"}", "unknown source address");
            assertBad(f, "{\"source\":\"" + src + "\",\"target\":\"gopher://x/y\"}", "unknown target address");
            assertBad(f, "{\"target\":\"" + dst + "\"}", "missing \"source\"");
            assertBad(f, "{\"source\":\"" + src + "\",\"target\":\"" + dst, "malformed JSON");
            assertBad(f, "", "empty request body");
            assertBad(f, "[1,2]", "expected a JSON object");
            assertBad(f, "{\"source\":42,\"target\":\"" + dst + "\"}", "\"source\" must be an address");
            assertBad(f, "{\"source\":\"" + src + "\",\"target\":\"" + dst + "\",\"options\":{\"request_size\":1000}}",
                    "request size must be a positive multiple of 4096");
            assertBad(f, "{\"source\":\"" + src + "\",\"target\":\"" + dst + "\",\"options\":{\"flush\":\"yes\"}}",
                    "options.flush must be true or false");
            assertBad(f, "{\"source\":\"" + src + "\",\"target\":\"" + dst + "\",\"options\":{\"speed\":1}}",
                    "unknown field \"options.speed\"");
            assertBad(f, "{\"source\":\"" + src + "\",\"target\":\"" + dst + "\",\"options\":{\"max_in_flight\":"
                    + (1L << 40) + "}}", "more than the daemon allows");
            assertBad(f, "{\"source\":\"" + src + "\",\"target\":\"" + dst + "\",\"options\":{\"connections\":0}}",
                    "options.connections must be a positive integer");
            assertEquals(0, f.daemon.jobs().list().size());
            assertEquals(404, f.request(HttpMethod.GET, "/v1/copies/nope", null).status());
            assertEquals(405, f.request(HttpMethod.PUT, "/v1/copies", "{}").status());

            JsonNode nbd = f.awaitResult(f.submit("nbd+unix:///?socket=" + dir.resolve("nobody.sock"), dst, null));
            assertEquals("failed", nbd.get("state").asText());
            assertTrue(nbd.get("error").asText().contains("nobody.sock"), nbd.toString());

            int closedPort;
            try (ServerSocket s = new ServerSocket(0)) {
                closedPort = s.getLocalPort();
            }
            String http = "http://127.0.0.1:" + closedPort + "/images/t1";
            JsonNode down = f.awaitResult(f.submit(http, dst, null));
            assertEquals("failed", down.get("state").asText());
            assertTrue(down.get("error").asText().contains(String.valueOf(closedPort)), down.toString());

            JsonNode missing = f.awaitResult(f.submit(dir.resolve("missing.raw").toString(), dst, null));
            assertEquals("failed", missing.get("state").asText());
            assertTrue(missing.get("error").asText().contains("missing.raw"), missing.toString());

            // still serving: a good copy works
            JsonNode ok = f.awaitResult(f.submit(src.toString(), dst, null));
            assertEquals("done", ok.get("state").asText(), ok.toString());
            TestImages.assertSameContent(src, Path.of(dst));
        }
    }

    private static void assertBad(DaemonFixture f, String body, String expected) {
        var r = f.request(HttpMethod.POST, "/v1/copies", body);
        assertEquals(400, r.status(), r.toString());
        String error = r.json().get("error").asText();
        assertTrue(error.contains(expected), "expected '" + expected + "' in: " + error);
    }
}
