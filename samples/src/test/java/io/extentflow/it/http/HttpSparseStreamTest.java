package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.testing.TestImages;
import io.netty.handler.codec.http.HttpMethod;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole images as one sparse stream per request: {@code GET/PUT /images/<id>?format=sparse}. */
class HttpSparseStreamTest {

    private static final EndpointOptions STREAM = EndpointOptions.defaults().with(HttpOptions.HTTP_STREAM, true);

    @TempDir
    Path dir;

    static long data(List<TestImages.Run> runs) {
        return runs.stream().filter(r -> !r.kind().equals("zero")).mapToLong(TestImages.Run::length).sum();
    }

    @Test
    void downloadAsOneStreamIsOneRequestAndByteIdentical() throws Exception {
        long size = 24L << 20;
        Path image = dir.resolve("img.raw");
        List<TestImages.Run> runs = TestImages.randomSparseRaw(image, size, 31, 35, 1 << 20);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("dl", image, size, "read");
            Path out = dir.resolve("out.raw");
            try (ImageSource src = Endpoints.source(url, STREAM).block(ServerFixture.TIMEOUT);
                 ImageSink dst = Endpoints.sink(out.toString(), src.size()).block(ServerFixture.TIMEOUT)) {
                assertEquals(size, src.size());
                Copy.from(src).to(dst).run().block(ServerFixture.TIMEOUT);
            }
            TestImages.assertSameContent(image, out);
            assertTrue(TestImages.allocatedBytes(out) <= data(runs) + data(runs) / 100 + 4096, "not sparse");
            assertEquals(1.0, f.counter("extentflow.server.requests", "op", "GET", "status", "200"),
                    "the whole image should come in one GET");
            assertEquals(0.0, f.counter("extentflow.server.extents.requests", "form", "range")
                    + f.counter("extentflow.server.extents.requests", "form", "whole"));
        }
    }

    @Test
    void uploadAsOneStreamWritesTheImage() throws Exception {
        long size = 20L << 20;
        Path image = dir.resolve("img.raw");
        TestImages.randomSparseRaw(image, size, 32, 35, 1 << 20);
        Path target = dir.resolve("target.raw");
        byte[] garbage = new byte[(int) size];
        new java.util.SplittableRandom(5).nextBytes(garbage);
        Files.write(target, garbage);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("up", target, size, "read", "write");
            try (ImageSource src = Endpoints.source(image.toString()).block(ServerFixture.TIMEOUT);
                 ImageSink dst = Endpoints.sink(url, size, STREAM).block(ServerFixture.TIMEOUT)) {
                Copy.from(src).to(dst).run().block(ServerFixture.TIMEOUT);
            }
            TestImages.assertSameContent(image, target);
            assertEquals(1.0, f.counter("extentflow.server.requests", "op", "PUT", "status", "200"));
        }
    }

    @Test
    void theStreamOnTheWireFollowsTheFormat() throws Exception {
        long size = 6L << 20;
        Path image = dir.resolve("img.raw");
        TestImages.randomSparseRaw(image, size, 33, 40, 512 << 10);
        try (ServerFixture f = new ServerFixture(dir)) {
            f.addTicket("wire", image, size, "read");
            byte[] body = f.data.get().uri("/images/wire?format=sparse").responseSingle((r, b) -> b.asByteArray())
                    .block(ServerFixture.TIMEOUT);
            byte[] rebuilt = new byte[(int) size];
            long covered = 0;
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
            byte[] header = new byte[40];
            while (true) {
                in.readFully(header);
                String h = new String(header, StandardCharsets.US_ASCII);
                assertTrue(h.matches("(data|zero|stop) [0-9a-f]{16} [0-9a-f]{16}\r\n"), h);
                long start = Long.parseLong(h.substring(5, 21), 16);
                long length = Long.parseLong(h.substring(22, 38), 16);
                if (h.startsWith("stop")) {
                    break;
                }
                assertEquals(covered, start);
                if (h.startsWith("data")) {
                    in.readFully(rebuilt, (int) start, (int) length);
                    assertEquals('\r', in.read());
                    assertEquals('\n', in.read());
                }
                covered += length;
            }
            assertEquals(size, covered);
            assertEquals(-1, in.read());
            assertArrayEquals(Files.readAllBytes(image), rebuilt);
        }
    }

    @Test
    void aBadStreamIsA400NamingTheStreamOffsetAndTheServerGoesOn() throws Exception {
        Path target = Files.write(dir.resolve("t.raw"), new byte[1 << 20]);
        try (ServerFixture f = new ServerFixture(dir)) {
            f.addTicket("bad", target, 1 << 20, "read", "write");
            String stream = "zero 0000000000000000 0000000000001000\r\ndata 00000000000010zz 0000000000000010\r\n";
            ServerFixture.Reply r = f.request(f.data, HttpMethod.PUT, "/images/bad?format=sparse", stream);
            assertEquals(400, r.status(), r.toString());
            assertTrue(r.body().contains("stream offset 40") && r.body().contains("bad hex digit"), r.body());
            assertEquals(1, r.body().strip().lines().count(), r.body());
            ServerFixture.Reply again = f.request(f.data, HttpMethod.OPTIONS, "/images/bad", null);
            assertEquals(200, again.status());
            assertTrue(again.body().contains("sparse-stream"), again.body());
        }
    }
}
