package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.imageio.ImageioJson;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The data API's status codes and one-line error bodies, as ovirt-imageio answers them, with plain
 * HTTP requests. After every error the server must still serve a good request.
 */
class ImageApiConformanceTest {

    private static final long SIZE = 1 << 20;

    @TempDir
    Path dir;
    private ServerFixture f;
    private Path image;
    private byte[] content;

    @BeforeEach
    void start() throws Exception {
        content = new byte[(int) SIZE];
        new Random(3).nextBytes(content);
        image = Files.write(dir.resolve("img.raw"), content);
        f = new ServerFixture(dir);
        f.addTicket("ro", image, SIZE, "read");
        f.addTicket("rw", image, SIZE, "write");
    }

    @AfterEach
    void stop() {
        f.close();
    }

    private ServerFixture.Reply get(String uri, String range) {
        return f.request(f.data, HttpMethod.GET, uri, null, h -> {
            if (range != null) {
                h.set(HttpHeaderNames.RANGE, range);
            }
        });
    }

    private ServerFixture.Reply patch(String id, String json) {
        return f.request(f.data, HttpMethod.PATCH, "/images/" + id, json);
    }

    /** An error reply: the status and a single line of text ending in a newline. */
    private void assertError(int status, String expectedStart, ServerFixture.Reply r) {
        assertEquals(status, r.status(), r.body());
        assertTrue(r.body().endsWith("\n") && r.body().indexOf('\n') == r.body().length() - 1,
                "not one line: '" + r.body() + "'");
        assertTrue(r.body().startsWith(expectedStart), "body '" + r.body() + "' should start with '"
                + expectedStart + "'");
        assertTrue(r.headers().get(HttpHeaderNames.CONTENT_TYPE).startsWith("text/plain"));
        assertStillServing();
    }

    private void assertStillServing() {
        ServerFixture.Reply ok = get("/images/ro", "bytes=0-15");
        assertEquals(206, ok.status());
        assertEquals("16", ok.headers().get(HttpHeaderNames.CONTENT_LENGTH));
    }

    @Test
    void optionsDescribeTicketsAndServer() throws Exception {
        ServerFixture.Reply ro = f.request(f.data, HttpMethod.OPTIONS, "/images/ro", null);
        assertEquals(200, ro.status());
        assertEquals("OPTIONS,GET", ro.headers().get(HttpHeaderNames.ALLOW));
        var json = ImageioJson.MAPPER.readTree(ro.body());
        assertEquals("[\"checksum\",\"extents\",\"extents-range\",\"sparse-stream\"]", json.get("features").toString());
        assertEquals(SIZE, json.get("size").asLong());
        assertEquals(8, json.get("max_readers").asInt());

        ServerFixture.Reply rw = f.request(f.data, HttpMethod.OPTIONS, "/images/rw", null);
        assertEquals("OPTIONS,GET,PUT,PATCH", rw.headers().get(HttpHeaderNames.ALLOW));
        assertTrue(ImageioJson.MAPPER.readTree(rw.body()).get("features").toString().contains("\"zero\""));

        ServerFixture.Reply star = f.request(f.data, HttpMethod.OPTIONS, "/images/*", null);
        assertEquals(200, star.status());
        assertEquals(null, ImageioJson.MAPPER.readTree(star.body()).get("max_readers"));
    }

    @Test
    void getWholeAndRanges() {
        ServerFixture.Reply whole = f.data.get().uri("/images/ro")
                .responseSingle((resp, body) -> body.asByteArray().map(b -> {
                    assertEquals(200, resp.status().code());
                    assertEquals(null, resp.responseHeaders().get(HttpHeaderNames.CONTENT_RANGE));
                    return new ServerFixture.Reply(200, new String(b, StandardCharsets.ISO_8859_1),
                            resp.responseHeaders());
                })).block(ServerFixture.TIMEOUT);
        assertEquals(new String(content, StandardCharsets.ISO_8859_1), whole.body());

        ServerFixture.Reply part = get("/images/ro", "bytes=1000-1999");
        assertEquals(206, part.status());
        assertEquals("bytes 1000-1999/" + SIZE, part.headers().get(HttpHeaderNames.CONTENT_RANGE));
        ServerFixture.Reply tail = get("/images/ro", "bytes=" + (SIZE - 10) + "-");
        assertEquals(206, tail.status());
        assertEquals("10", tail.headers().get(HttpHeaderNames.CONTENT_LENGTH));
    }

    @Test
    void rangeErrors() {
        ServerFixture.Reply past = get("/images/ro", "bytes=0-" + SIZE);
        assertEquals("bytes */" + SIZE, past.headers().get(HttpHeaderNames.CONTENT_RANGE));
        assertError(416, "Requested range out of allowed range", past);
        assertError(416, "Requested range starts at " + SIZE, get("/images/ro", "bytes=" + SIZE + "-"));
        assertError(416, "Cannot satisfy range", get("/images/ro", "bytes=0-1,4-5"));
        assertError(416, "Cannot satisfy range", get("/images/ro", "bytes=9-3"));
        assertError(416, "Cannot satisfy range", get("/images/ro", "pages=0-3"));
        assertError(416, "suffix-byte-range-spec not supported yet", get("/images/ro", "bytes=-5"));
    }

    @Test
    void ticketErrors() {
        assertError(403, "You are not allowed to access this resource: No such ticket 'nope'",
                get("/images/nope", null));
        ServerFixture.Reply ro = f.request(f.data, HttpMethod.PUT, "/images/ro", "abcd");
        assertEquals("close", ro.headers().get(HttpHeaderNames.CONNECTION));
        assertError(403, "You are not allowed to access this resource: Transfer=transfer-ro forbids write", ro);
        assertError(403, "You are not allowed to access this resource: Transfer=transfer-ro forbids write",
                patch("ro", "{\"op\":\"flush\"}"));

        f.addTicket("gone", image, SIZE, "read");
        assertEquals(204, f.request(f.control, HttpMethod.DELETE, "/tickets/gone", null).status());
        assertError(403, "You are not allowed to access this resource: No such ticket 'gone'",
                get("/images/gone", "bytes=0-1"));

        // timeout 0: expired as soon as it is stored
        String json = "{\"uuid\":\"old\",\"size\":" + SIZE + ",\"url\":\"file://" + image + "\",\"timeout\":0,"
                + "\"ops\":[\"read\"],\"transfer_id\":\"t-old\"}";
        assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/old", json).status());
        assertError(403, "You are not allowed to access this resource: Transfer=t-old expired",
                get("/images/old", "bytes=0-1"));
    }

    @Test
    void patchErrors() {
        assertError(400, "Invalid JSON message", patch("rw", "{bad json"));
        assertError(400, "Unsupported value 'trim' for 'op', expecting one of ['flush', 'zero']",
                patch("rw", "{\"op\":\"trim\",\"size\":1}"));
        assertError(400, "Missing required value for 'size'", patch("rw", "{\"op\":\"zero\",\"offset\":4096}"));
        assertError(400, "Invalid value -1 < 0", patch("rw", "{\"op\":\"zero\",\"offset\":-1,\"size\":1}"));
        assertError(400, "Integer required '1'", patch("rw", "{\"op\":\"zero\",\"offset\":0,\"size\":\"1\"}"));
        ServerFixture.Reply past = patch("rw", "{\"op\":\"zero\",\"offset\":" + SIZE + ",\"size\":1}");
        assertEquals("bytes */" + SIZE, past.headers().get(HttpHeaderNames.CONTENT_RANGE));
        assertError(416, "Requested range out of allowed range", past);
    }

    @Test
    void putErrors() {
        // chunked: no Content-Length
        ServerFixture.Reply chunked = f.data.headers(h -> h.set(HttpHeaderNames.CONTENT_RANGE, "bytes 0-3/*"))
                .put().uri("/images/rw")
                .send(Flux.just("ab", "cd").map(s -> Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.US_ASCII))))
                .responseSingle((resp, b) -> b.asString().defaultIfEmpty("")
                        .map(t -> new ServerFixture.Reply(resp.status().code(), t, resp.responseHeaders())))
                .block(ServerFixture.TIMEOUT);
        assertError(400, "Content-Length header is required", chunked);
        assertError(400, "Invalid Content-Range 'bytes=0-3'", f.request(f.data, HttpMethod.PUT, "/images/rw", "abcd",
                h -> h.set(HttpHeaderNames.CONTENT_RANGE, "bytes=0-3")));
        assertError(400, "Unsupported value 'maybe' for 'flush', expecting one of ['n', 'y']",
                f.request(f.data, HttpMethod.PUT, "/images/rw?flush=maybe", "abcd"));
        ServerFixture.Reply past = f.request(f.data, HttpMethod.PUT, "/images/rw", "abcd",
                h -> h.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + (SIZE - 2) + "-" + (SIZE + 1) + "/*"));
        assertError(416, "Requested range out of allowed range", past);
    }

    /** A PUT with neither Content-Length nor chunked encoding (the body would run to the close). */
    @Test
    void putWithoutContentLength() throws Exception {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", f.server.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("PUT /images/rw HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-3/*\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(reply.startsWith("HTTP/1.1 400 "), reply);
            assertTrue(reply.endsWith("\r\n\r\nContent-Length header is required\n"), reply);
        }
        assertStillServing();
    }

    @Test
    void backendThatCannotBeOpenedIsAServerError() {
        f.addTicket("missing", dir.resolve("no-such-file.raw"), SIZE, "read");
        ServerFixture.Reply r = get("/images/missing", "bytes=0-9");
        assertEquals("close", r.headers().get(HttpHeaderNames.CONNECTION));
        assertError(500, "Server failed to perform the request: ", r);
        assertTrue(r.body().contains("no-such-file.raw"), r.body());
    }

    @Test
    void routingAndMethods() {
        assertError(404, "No handler for '/nothing'", get("/nothing", null));
        assertError(405, "Method 'DELETE' not defined for '/images/ro'",
                f.request(f.data, HttpMethod.DELETE, "/images/ro", null));
        assertError(400, "Unsupported value 'bogus' for 'context', expecting one of ['dirty', 'zero']",
                get("/images/ro/extents?context=bogus", null));
        assertError(404, "Ticket does not support dirty extents", get("/images/ro/extents?context=dirty", null));
        assertError(400, "Ticket id is required", get("/images/", null));
    }

    @Test
    void uploadZeroAndFlushSucceed() throws Exception {
        assertEquals(200, f.request(f.data, HttpMethod.PUT, "/images/rw?flush=n", "WXYZ",
                h -> h.set(HttpHeaderNames.CONTENT_RANGE, "bytes 100-103/*")).status());
        assertEquals(200, patch("rw", "{\"op\":\"zero\",\"offset\":4096,\"size\":8192,\"flush\":true}").status());
        assertEquals(200, patch("rw", "{\"op\":\"flush\"}").status());
        byte[] now = Files.readAllBytes(image);
        assertEquals("WXYZ", new String(now, 100, 4, StandardCharsets.US_ASCII));
        for (int i = 4096; i < 4096 + 8192; i++) {
            assertEquals(0, now[i], "byte " + i);
        }
        assertEquals(content[4096 + 8192], now[4096 + 8192]);
        assertEquals(0, f.server.buffersInUse());
    }
}
