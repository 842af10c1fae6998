package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Ranges near 0, the image size, 2^63-1 and 2^64 in every request that carries one: 416 for a range
 * outside the image, 400 for a position that is not a non-negative 64-bit number, never a dropped
 * connection or a 500; and the server serves the next request normally.
 */
class RangeLimitsTest {

    private static final long SIZE = 1 << 20;
    private static final long MAX = Long.MAX_VALUE;
    /** 2^63: one past the largest position, not a 64-bit signed number. */
    private static final String TWO_63 = "9223372036854775808";
    private static final String TWO_64 = "18446744073709551616";

    @TempDir
    Path dir;
    private ServerFixture f;

    @BeforeEach
    void start() throws Exception {
        Path image = Files.write(dir.resolve("img.raw"), new byte[(int) SIZE]);
        f = new ServerFixture(dir);
        f.addTicket("rw", image, SIZE, "read", "write");
        // a read ticket may cover more than its file: ranges are then checked against the file too
        f.addTicket("huge", image, MAX, "read");
        f.addTicket("empty", Files.write(dir.resolve("empty.raw"), new byte[0]), SIZE, "read");
    }

    @AfterEach
    void stop() {
        f.close();
    }

    static Stream<Arguments> putRanges() {
        return Stream.of(
                Arguments.of("bytes 0-9/*", "10", 200),
                Arguments.of("bytes " + (SIZE - 10) + "-" + (SIZE - 1) + "/*", "10", 200),
                Arguments.of("bytes " + SIZE + "-*/*", "0", 200),
                Arguments.of("bytes " + (SIZE - 9) + "-" + SIZE + "/*", "10", 416),
                Arguments.of("bytes " + SIZE + "-" + (SIZE + 9) + "/*", "10", 416),
                Arguments.of("bytes 9223372036854775800-9223372036854775809/*", "10", 416),
                Arguments.of("bytes " + MAX + "-*/*", "1", 416),
                Arguments.of("bytes 0-*/*", Long.toString(MAX), 416),
                Arguments.of("bytes 10-*/*", Long.toString(MAX), 416),
                Arguments.of("bytes " + TWO_63 + "-*/*", "1", 400),
                Arguments.of("bytes " + TWO_64 + "-*/*", "1", 400),
                Arguments.of("bytes 0-*/*", TWO_63, 400),
                Arguments.of("bytes 0-*/*", TWO_64, 400),
                Arguments.of("bytes -1-9/*", "10", 400));
    }

    /** PUT with Content-Range and Content-Length; a body is sent only when it is short (up to 10 bytes). */
    @ParameterizedTest(name = "PUT Content-Range: {0}, Content-Length: {1} -> {2}")
    @MethodSource("putRanges")
    void put(String contentRange, String contentLength, int status) throws IOException {
        int body = contentLength.length() <= 2 ? Integer.parseInt(contentLength) : 0;
        String head = "PUT /images/rw?flush=n HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Range: " + contentRange
                + "\r\nContent-Length: " + contentLength + "\r\n\r\n";
        RawReply reply = raw(head, body);
        assertReply(status, reply);
    }

    static Stream<Arguments> getRanges() {
        return Stream.of(
                Arguments.of("rw", "bytes=0-0", 206),
                Arguments.of("rw", "bytes=" + (SIZE - 1) + "-", 206),
                Arguments.of("rw", "bytes=0-" + (SIZE - 1), 206),
                Arguments.of("rw", "bytes=" + SIZE + "-", 416),
                Arguments.of("rw", "bytes=0-" + SIZE, 416),
                Arguments.of("rw", "bytes=" + MAX + "-", 416),
                Arguments.of("rw", "bytes=0-" + MAX, 416),
                Arguments.of("rw", "bytes=" + (MAX - 1) + "-" + MAX, 416),
                Arguments.of("huge", "bytes=" + (MAX - 1) + "-" + (MAX - 1), 416),
                Arguments.of("huge", "bytes=" + (SIZE - 1) + "-" + (MAX - 1), 416),
                Arguments.of("huge", "bytes=" + MAX + "-", 416),
                Arguments.of("rw", "bytes=" + TWO_63 + "-", 400),
                Arguments.of("rw", "bytes=0-" + TWO_63, 400),
                Arguments.of("rw", "bytes=" + TWO_64 + "-", 400),
                Arguments.of("rw", "bytes=0-" + TWO_64, 400));
    }

    @ParameterizedTest(name = "GET /images/{0} Range: {1} -> {2}")
    @MethodSource("getRanges")
    void get(String ticket, String range, int status) {
        ServerFixture.Reply r = f.request(f.data, HttpMethod.GET, "/images/" + ticket, null,
                h -> h.set(HttpHeaderNames.RANGE, range));
        assertEquals(status, r.status(), r.status() == 206 ? "" : r.body());
        if (status == 416) {
            // the image's size also for the ticket larger than its image: what a client can read
            assertEquals("bytes */" + SIZE, r.headers().get(HttpHeaderNames.CONTENT_RANGE));
        }
        assertStillServing();
    }

    @org.junit.jupiter.api.Test
    void anEmptyImageIsServedAsZeroBytes() {
        ServerFixture.Reply whole = f.request(f.data, HttpMethod.GET, "/images/empty", null);
        assertEquals(200, whole.status());
        assertEquals("0", whole.headers().get(HttpHeaderNames.CONTENT_LENGTH));
        assertEquals("", whole.body());
        ServerFixture.Reply first = f.request(f.data, HttpMethod.GET, "/images/empty", null,
                h -> h.set(HttpHeaderNames.RANGE, "bytes=0-"));
        assertEquals(416, first.status(), first.body());
        assertEquals("bytes */0", first.headers().get(HttpHeaderNames.CONTENT_RANGE));
        assertStillServing();
    }

    static Stream<Arguments> patches() {
        return Stream.of(
                Arguments.of("{\"op\":\"zero\",\"offset\":0,\"size\":0}", 200),
                Arguments.of("{\"op\":\"zero\",\"offset\":0,\"size\":" + SIZE + "}", 200),
                Arguments.of("{\"op\":\"zero\",\"offset\":" + (SIZE - 1) + ",\"size\":1,\"flush\":true}", 200),
                Arguments.of("{\"op\":\"zero\",\"offset\":" + SIZE + ",\"size\":0}", 200),
                Arguments.of("{\"op\":\"zero\",\"offset\":" + SIZE + ",\"size\":1}", 416),
                Arguments.of("{\"op\":\"zero\",\"offset\":" + (SIZE - 1) + ",\"size\":2,\"flush\":true}", 416),
                Arguments.of("{\"op\":\"zero\",\"offset\":0,\"size\":" + (SIZE + 1) + "}", 416),
                Arguments.of("{\"op\":\"zero\",\"offset\":9223372036854775800,\"size\":10}", 416),
                Arguments.of("{\"op\":\"zero\",\"offset\":10485700,\"size\":" + MAX + "}", 416),
                Arguments.of("{\"op\":\"zero\",\"offset\":" + MAX + ",\"size\":" + MAX + ",\"flush\":true}", 416),
                Arguments.of("{\"op\":\"zero\",\"offset\":1,\"size\":" + MAX + "}", 416),
                Arguments.of("{\"op\":\"zero\",\"offset\":" + MAX + ",\"size\":0}", 416),
                Arguments.of("{\"op\":\"zero\",\"offset\":" + TWO_63 + ",\"size\":1}", 400),
                Arguments.of("{\"op\":\"zero\",\"offset\":0,\"size\":" + TWO_64 + "}", 400),
                Arguments.of("{\"op\":\"zero\",\"offset\":-1,\"size\":1}", 400),
                Arguments.of("{\"op\":\"flush\"}", 200),
                // flush takes no range: imageio ignores other fields
                Arguments.of("{\"op\":\"flush\",\"offset\":" + MAX + ",\"size\":" + MAX + "}", 200));
    }

    @ParameterizedTest(name = "PATCH {0} -> {1}")
    @MethodSource("patches")
    void patch(String json, int status) {
        ServerFixture.Reply r = f.request(f.data, HttpMethod.PATCH, "/images/rw", json);
        assertEquals(status, r.status(), r.body());
        if (status == 416) {
            assertEquals("bytes */" + SIZE, r.headers().get(HttpHeaderNames.CONTENT_RANGE));
        }
        assertStillServing();
    }

    private void assertReply(int status, RawReply reply) {
        assertEquals(status, reply.status, reply.text);
        if (status != 200) {
            assertTrue(reply.text.toLowerCase(java.util.Locale.ROOT).contains("content-type: text/plain"), reply.text);
        }
        assertStillServing();
    }

    private void assertStillServing() {
        ServerFixture.Reply ok = f.request(f.data, HttpMethod.GET, "/images/rw", null,
                h -> h.set(HttpHeaderNames.RANGE, "bytes=0-15"));
        assertEquals(206, ok.status());
        assertEquals("16", ok.headers().get(HttpHeaderNames.CONTENT_LENGTH));
    }

    /** A reply read from a plain socket: its status (-1 when the connection ended first) and text. */
    private record RawReply(int status, String text) {
    }

    /**
     * Sends {@code head} and {@code body} zero bytes on a new connection and reads the reply up to the
     * end of its body (Content-Length): a plain socket, so any Content-Length can be sent.
     */
    private RawReply raw(String head, int body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", f.server.port())) {
            s.setSoTimeout((int) ServerFixture.TIMEOUT.toMillis());
            s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(new byte[body]);
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            int c;
            while (!got.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n") && (c = in.read()) >= 0) {
                got.write(c);
            }
            String text = got.toString(StandardCharsets.US_ASCII);
            if (!text.startsWith("HTTP/1.1 ")) {
                return new RawReply(-1, "no reply: '" + text + "'");
            }
            int length = 0;
            for (String line : text.split("\r\n")) {
                if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
            text += new String(in.readNBytes(length), StandardCharsets.US_ASCII);
            return new RawReply(Integer.parseInt(text.substring(9, 12)), text);
        }
    }
}
