package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.imageio.ImageioJson;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control API on its Unix socket: add, describe, extend, delete, and the errors. */
class ControlApiTest {

    @TempDir
    Path dir;

    private static void assertReply(int status, String bodyStart, ServerFixture.Reply r) {
        assertEquals(status, r.status(), r.body());
        assertTrue(r.body().startsWith(bodyStart), "'" + r.body() + "' should start with '" + bodyStart + "'");
    }

    @Test
    void ticketLifecycle() throws Exception {
        Path image = Files.write(dir.resolve("a.raw"), new byte[65536]);
        try (ServerFixture f = new ServerFixture(dir)) {
            String ticket = "{\"uuid\":\"bbb\",\"size\":65536,\"url\":\"file://" + image
                    + "\",\"timeout\":300,\"ops\":[\"read\"]}";
            // the id in the path is ignored; the body's uuid counts
            assertReply(200, "", f.request(f.control, HttpMethod.PUT, "/tickets/aaa", ticket));
            ServerFixture.Reply info = f.request(f.control, HttpMethod.GET, "/tickets/bbb", null);
            assertEquals(200, info.status());
            var json = ImageioJson.MAPPER.readTree(info.body());
            assertEquals("bbb", json.get("uuid").asText());
            assertEquals(65536, json.get("size").asLong());
            assertEquals("[\"read\"]", json.get("ops").toString());
            assertEquals("(ticket/bbb)", json.get("transfer_id").asText());
            assertEquals(false, json.get("active").asBoolean());

            assertReply(200, "", f.request(f.control, HttpMethod.PATCH, "/tickets/bbb", "{\"timeout\":10}"));
            assertReply(400, "Invalid patch", f.request(f.control, HttpMethod.PATCH, "/tickets/bbb", "{}"));
            assertReply(400, "Integer required 'x'",
                    f.request(f.control, HttpMethod.PATCH, "/tickets/bbb", "{\"timeout\":\"x\"}"));
            assertReply(400, "Invalid value -1 < 0",
                    f.request(f.control, HttpMethod.PATCH, "/tickets/bbb", "{\"timeout\":-1}"));
            assertReply(404, "No such ticket: zzz",
                    f.request(f.control, HttpMethod.PATCH, "/tickets/zzz", "{\"timeout\":1}"));

            assertReply(204, "", f.request(f.control, HttpMethod.DELETE, "/tickets/bbb", null));
            assertReply(204, "", f.request(f.control, HttpMethod.DELETE, "/tickets/bbb", null));
            assertReply(404, "No such ticket 'bbb'", f.request(f.control, HttpMethod.GET, "/tickets/bbb", null));
            assertReply(405, "Method 'POST' not defined for '/tickets/x'",
                    f.request(f.control, HttpMethod.POST, "/tickets/x", "{}"));
        }
    }

    @Test
    void invalidTickets() {
        try (ServerFixture f = new ServerFixture(dir)) {
            assertReply(400, "Ticket id is required", f.request(f.control, HttpMethod.PUT, "/tickets/", "{}"));
            assertReply(400, "Ticket is not in a json format",
                    f.request(f.control, HttpMethod.PUT, "/tickets/x", "{nope"));
            assertReply(400, "Invalid ticket: Required ticket parameter is missing: ops",
                    f.request(f.control, HttpMethod.PUT, "/tickets/x",
                            "{\"uuid\":\"x\",\"size\":1,\"url\":\"file:///x\",\"timeout\":1}"));
            assertReply(400, "Invalid ticket: Invalid value for 'size'",
                    f.request(f.control, HttpMethod.PUT, "/tickets/x",
                            "{\"uuid\":\"x\",\"size\":\"1\",\"url\":\"file:///x\",\"timeout\":1,\"ops\":[\"read\"]}"));
            assertReply(400, "Invalid ticket: Unsupported url scheme: ftp",
                    f.request(f.control, HttpMethod.PUT, "/tickets/x",
                            "{\"uuid\":\"x\",\"size\":1,\"url\":\"ftp://h/x\",\"timeout\":1,\"ops\":[\"read\"]}"));
            assertEquals(0, f.server.tickets().size());
        }
    }
}
