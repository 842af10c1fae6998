package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sinks.http.HttpSink;
import io.extentflow.sources.http.HttpSource;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads and uploads through Copy against our server on loopback, compared byte for byte. */
class HttpRoundTripTest {

    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @Test
    void downloadIsByteIdenticalAndSparse() throws Exception {
        Path image = dir.resolve("src.raw");
        TestImages.randomSparseRaw(image, SIZE, 11, 40, 256 << 10);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("dl", image, SIZE, "read");
            Path target = dir.resolve("dst.raw");
            CopyResult r;
            try (ImageSource src = Endpoints.source(url).block(ServerFixture.TIMEOUT);
                 ImageSink dst = Endpoints.sink(target.toString(), src.size()).block(ServerFixture.TIMEOUT)) {
                assertTrue(src instanceof HttpSource);
                r = Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(1 << 20))
                        .run().block(ServerFixture.TIMEOUT);
            }
            TestImages.assertSameContent(image, target);
            assertEquals(SIZE, r.size());
            // holes of the source were skipped, not read: fewer bytes read than the image holds
            assertTrue(r.readBytes() < SIZE, "read " + r.readBytes());
            assertTrue(f.counter("extentflow.server.extents.requests", "form", "range") >= 1);
            assertEquals(0, f.counter("extentflow.server.extents.requests", "form", "whole"));
            assertEquals(0, f.server.buffersInUse());
        }
    }

    @Test
    void uploadIsByteIdentical() throws Exception {
        Path image = dir.resolve("src.raw");
        TestImages.randomSparseRaw(image, SIZE, 12, 50, 512 << 10);
        Path target = dir.resolve("target.raw");
        // an existing target full of garbage: zero extents must really be zeroed through PATCH
        byte[] junk = new byte[(int) SIZE];
        new java.util.Random(5).nextBytes(junk);
        Files.write(target, junk);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("up", target, SIZE, "write");
            try (ImageSource src = Endpoints.source(image.toString()).block(ServerFixture.TIMEOUT);
                 ImageSink dst = Endpoints.sink(url, src.size()).block(ServerFixture.TIMEOUT)) {
                assertTrue(dst instanceof HttpSink);
                Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(1 << 20))
                        .run().block(ServerFixture.TIMEOUT);
            }
            TestImages.assertSameContent(image, target);
            assertTrue(f.counter("extentflow.server.bytes", "op", "zero") > 0);
            assertEquals(0, f.server.buffersInUse());
        }
    }
}
