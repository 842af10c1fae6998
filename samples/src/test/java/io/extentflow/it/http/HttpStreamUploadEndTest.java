package io.extentflow.it.http;

import static io.extentflow.it.http.CliOverHttpTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.it.http.CliOverHttpTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end of a streamed upload ({@code --http-stream}, one {@code PUT ?format=sparse}): a copy is
 * done only once {@code extentflow serve} answered that it has the whole stream, with or without
 * a flush (issue 20: with {@code --no-flush} the request was never ended, the copy reported
 * success, and its close then aborted the body; the server kept a cut image).
 */
class HttpStreamUploadEndTest {

    private static final EndpointOptions STREAM = EndpointOptions.defaults().with(HttpOptions.HTTP_STREAM, true);
    private static final long SIZE = 40L << 20;

    @TempDir
    Path dir;

    /** A sparse image with data up to its last bytes, and a garbage-filled target of the same size. */
    private Path[] imageAndTarget(long seed) throws Exception {
        Path image = dir.resolve("img-" + seed + ".raw");
        TestImages.randomSparseRaw(image, SIZE, seed, 40, 1 << 20);
        try (var ch = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("the last bytes of the image".getBytes()), SIZE - 27);
        }
        Path target = dir.resolve("target-" + seed + ".raw");
        byte[] garbage = new byte[(int) SIZE];
        new java.util.SplittableRandom(seed).nextBytes(garbage);
        Files.write(target, garbage);
        return new Path[] {image, target};
    }

    /** Waits for the server to count the upload (it does after answering), then checks it was a 200. */
    private static void assertOneSuccessfulPut(ServerFixture f) {
        ServerFixture.await("the PUT to be counted", () -> f.counter("extentflow.server.requests", "op", "PUT") >= 1);
        assertEquals(1.0, f.counter("extentflow.server.requests", "op", "PUT", "status", "200"),
                "PUT 200s; all PUTs: " + f.counter("extentflow.server.requests", "op", "PUT"));
        assertEquals(1.0, f.counter("extentflow.server.requests", "op", "PUT"), "one request for the whole image");
    }

    @Test
    void aCopyWithoutFlushEndsTheStreamAndCompletesOnlyWhenTheServerHasItAll() throws Exception {
        Path[] files = imageAndTarget(41);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("noflush", files[1], SIZE, "read", "write");
            try (ImageSource src = Endpoints.source(files[0].toString()).block(ServerFixture.TIMEOUT);
                 ImageSink dst = Endpoints.sink(url, SIZE, STREAM).block(ServerFixture.TIMEOUT)) {
                Copy.from(src).to(dst).options(CopyOptions.defaults().withFlush(false)).run()
                        .block(ServerFixture.TIMEOUT);
                // the copy is done, the sink not closed yet: the server must already have written everything
                TestImages.assertSameContent(files[0], files[1]);
            }
            assertOneSuccessfulPut(f);
        }
    }

    @Test
    void theCliWithNoFlushExitsZeroOnlyAfterTheServerConfirmedTheWholeImage() throws Exception {
        Path[] files = imageAndTarget(42);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("cli", files[1], SIZE, "read", "write");
            Run copy = cli("copy", "--no-progress", "--no-flush", "--http-stream", files[0].toString(), url);
            assertEquals(0, copy.code(), copy.toString());
            assertTrue(copy.out().startsWith("copied "), copy.out());
            assertEquals("", copy.err(), "nothing on standard error");
            TestImages.assertSameContent(files[0], files[1]);
            assertOneSuccessfulPut(f);
        }
    }

    @Test
    void verifyAfterAStreamedUploadFinishes() throws Exception {
        Path[] files = imageAndTarget(43);
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("verify", files[1], SIZE, "read", "write");
            // a guard against the old hang (Verification.check parked in Mono.block), not a wait
            Run copy = assertTimeoutPreemptively(java.time.Duration.ofMinutes(2),
                    () -> cli("copy", "--no-progress", "--http-stream", "--verify", files[0].toString(), url));
            assertEquals(0, copy.code(), copy.toString());
            assertTrue(copy.out().contains("; verified, blake2b "), copy.out());
            assertFalse(copy.err().contains("Exception") || copy.err().contains("Error"), copy.err());
            TestImages.assertSameContent(files[0], files[1]);
            assertOneSuccessfulPut(f);
        }
    }
    /** The server side of the same rule: a body that ends before the stop frame is a 400, never a 200. */
    @Test
    void theServerRefusesAStreamWhoseBodyEndsBeforeItsStopFrame() throws Exception {
        Path target = Files.write(dir.resolve("cut.raw"), new byte[1 << 20]);
        try (ServerFixture f = new ServerFixture(dir)) {
            f.addTicket("cut", target, 1 << 20, "read", "write");
            String noStop = "zero 0000000000000000 0000000000001000\r\n";
            ServerFixture.Reply r = f.request(f.data, io.netty.handler.codec.http.HttpMethod.PUT,
                    "/images/cut?format=sparse", noStop);
            assertEquals(400, r.status(), r.toString());
            assertTrue(r.body().contains("stream ended without a stop frame"), r.body());
            String cutPayload = "data 0000000000000000 0000000000000010\r\n0123456789";
            r = f.request(f.data, io.netty.handler.codec.http.HttpMethod.PUT, "/images/cut?format=sparse",
                    cutPayload);
            assertEquals(400, r.status(), r.toString());
            assertTrue(r.body().contains("stream truncated inside a data frame's payload"), r.body());
        }
    }
}
