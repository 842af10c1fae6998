package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's log under abuse: an expected client fault is one line at the default level (stack
 * traces only at FINE). The server logs through JUL (logger {@code io.extentflow.server}); a handler
 * on it collects what it would print.
 */
class ServerLogTest {

    private static final Logger SERVER_LOG = Logger.getLogger("io.extentflow.server");
    private static final int FAULTS = 100;

    @TempDir
    Path dir;
    private final LogLines log = new LogLines();

    /** The lines the default console handler would print for INFO and above. */
    private static final class LogLines extends Handler {
        private final SimpleFormatter format = new SimpleFormatter();
        private final List<String> records = new ArrayList<>();
        private final List<String> lines = new ArrayList<>();

        LogLines() {
            setLevel(Level.INFO);
        }

        @Override
        public synchronized void publish(LogRecord r) {
            if (isLoggable(r)) {
                String text = format.format(r);
                records.add(r.getMessage());
                // SimpleFormatter prints a header line (date, source) and then the message: count the latter
                lines.addAll(text.lines().skip(1).toList());
            }
        }

        synchronized int records() {
            return records.size();
        }

        synchronized List<String> lines() {
            return List.copyOf(lines);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    @BeforeEach
    void capture() {
        SERVER_LOG.addHandler(log);
    }

    @AfterEach
    void release() {
        SERVER_LOG.removeHandler(log);
    }

    @Test
    void aDroppedConnectionIsOneLine() throws Exception {
        Path target = Files.write(dir.resolve("t.raw"), new byte[1 << 20]);
        // larger than what the socket buffers hold, so a download is still being sent when its client hangs up
        Path big = dir.resolve("big.raw");
        try (var file = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            file.write(java.nio.ByteBuffer.wrap(new byte[] {1}), (64 << 20) - 1);
        }
        try (ServerFixture f = new ServerFixture(dir)) {
            f.addTicket("w", target, 1 << 20, "write");
            f.addTicket("r", big, 64 << 20, "read");
            int before = log.records();
            for (int i = 0; i < FAULTS / 2; i++) {
                // announce 1 MB, send 1000 bytes, hang up
                try (Socket s = new Socket("127.0.0.1", f.server.port())) {
                    OutputStream out = s.getOutputStream();
                    out.write(("PUT /images/w HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(new byte[1000]);
                    out.flush();
                }
                // read the first 4 KiB of a 64 MiB download, hang up
                ServerFixture.stalledDownload(f.server.port(), "/images/r").close();
            }
            ServerFixture.await("every dropped request ended",
                    () -> f.counter("extentflow.server.requests") >= FAULTS);
            ServerFixture.await("a log record per dropped request", () -> log.records() - before >= FAULTS);
            List<String> lines = log.lines().subList(before, log.lines().size());
            assertEquals(FAULTS, lines.size(), () -> "expected one line per dropped connection, got:\n"
                    + String.join("\n", lines.subList(0, Math.min(60, lines.size()))));
            assertEquals(FAULTS / 2, lines.stream()
                    .filter(l -> l.contains("client went away during PUT /images/{ticket}")).count(), lines.get(0));
            assertEquals(FAULTS / 2, lines.stream()
                    .filter(l -> l.contains("client went away during GET /images/{ticket}")).count(), lines.get(0));
            assertEquals(FAULTS / 2, f.counter("extentflow.server.requests", "status", "499"),
                    "uploads dropped before their reply are counted as 499");
            assertEquals(200, f.request(f.data, io.netty.handler.codec.http.HttpMethod.PATCH, "/images/w",
                    "{\"op\":\"flush\"}").status());
        }
    }

    @Test
    void tenThousandHeadersAreOneReplyAndOneLine() throws Exception {
        Path target = Files.write(dir.resolve("t.raw"), new byte[1 << 20]);
        try (ServerFixture f = new ServerFixture(dir)) {
            f.addTicket("w", target, 1 << 20, "write");
            int before = log.records();
            StringBuilder request = new StringBuilder("PUT /images/w HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            for (int i = 0; i < 10_000; i++) {
                request.append("X-Header-").append(i).append(": v\r\n");
            }
            request.append("Content-Length: 0\r\n\r\n");
            String reply;
            try (Socket s = new Socket("127.0.0.1", f.server.port())) {
                s.setSoTimeout((int) ServerFixture.TIMEOUT.toMillis());
                s.getOutputStream().write(request.toString().getBytes(StandardCharsets.US_ASCII));
                s.shutdownOutput();
                reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            }
            assertTrue(reply.startsWith("HTTP/1.1 431 "), reply);
            assertTrue(reply.endsWith("\r\n\r\nInvalid request: HTTP header is larger than 8192 bytes.\n"), reply);
            ServerFixture.await("the log record", () -> log.records() - before >= 1);
            List<String> lines = log.lines().subList(before, log.lines().size());
            assertEquals(1, lines.size(), () -> String.join("\n", lines.subList(0, Math.min(60, lines.size()))));
            assertTrue(lines.get(0).contains("refused an unreadable request"), lines.get(0));
            assertEquals(200, f.request(f.data, io.netty.handler.codec.http.HttpMethod.PATCH, "/images/w",
                    "{\"op\":\"flush\"}").status());
        }
    }
}
