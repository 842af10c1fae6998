package io.extentflow.engine.imageio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The client's requests, retries and error messages, against the fault-injecting fake server. */
class ImageioClientTest {

    private static final Duration T = Duration.ofSeconds(30);

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(1).nextBytes(b);
        return b;
    }

    @Test
    void readsRangesAndRetriesTransientFailures() {
        byte[] img = random(1 << 20);
        try (FakeImageioServer fake = new FakeImageioServer(img, List.of(Extent.data(0, img.length)),
                FakeImageioServer.upstream());
             ImageioClient c = ImageioClient.create(fake.url(),
                    ImageioClientOptions.defaults().withConnections(2).withRetries(3))) {
            ByteBuffer buf = ByteBuffer.allocate(1000);
            c.read(5000, buf).block(T);
            assertEquals(1000, buf.position());
            assertArrayEquals(Arrays.copyOfRange(img, 5000, 6000), buf.array());

            fake.failNext(2, 503);
            ByteBuffer again = ByteBuffer.allocate(10);
            c.read(0, again).block(T);
            assertArrayEquals(Arrays.copyOfRange(img, 0, 10), again.array());

            fake.dropNext(1);
            ByteBuffer afterReset = ByteBuffer.allocate(10);
            c.read(10, afterReset).block(T);
            assertArrayEquals(Arrays.copyOfRange(img, 10, 20), afterReset.array());
        }
    }

    @Test
    void givesUpWithAClearError() {
        byte[] img = random(4096);
        try (FakeImageioServer fake = new FakeImageioServer(img, List.of(Extent.data(0, img.length)),
                FakeImageioServer.upstream());
             ImageioClient c = ImageioClient.create(fake.url(),
                    ImageioClientOptions.defaults().withConnections(1).withRetries(2))) {
            fake.failNext(100, 500);
            ImageIoException e = assertThrows(ImageIoException.class,
                    () -> c.read(100, ByteBuffer.allocate(50)).block(T));
            assertTrue(e.getMessage().startsWith("read of 50 bytes at offset 100 on " + fake.url()), e.getMessage());
            assertTrue(e.getMessage().contains("HTTP 500 injected failure (after 3 attempts)"), e.getMessage());

            // 4xx is not retried
            fake.failNext(1, 416);
            int before = fake.requests("GET");
            ImageIoException e416 = assertThrows(ImageIoException.class,
                    () -> c.read(0, ByteBuffer.allocate(5)).block(T));
            assertTrue(e416.getMessage().endsWith("HTTP 416 injected failure"), e416.getMessage());
            assertEquals(before + 1, fake.requests("GET"));
        }
    }

    @Test
    void refusedConnectionIsReportedWithTheUrl() {
        ImageioClient c = ImageioClient.create("http://127.0.0.1:1/images/t",
                    ImageioClientOptions.defaults().withConnections(1).withRetries(1));
        ImageIoException e = assertThrows(ImageIoException.class, () -> c.options().block(T));
        assertTrue(e.getMessage().startsWith("options of 0 bytes at offset 0 on http://127.0.0.1:1/images/t failed"),
                e.getMessage());
        assertTrue(e.getMessage().contains("(after 2 attempts)"), e.getMessage());
        c.close();
    }

    @Test
    void writesZerosAndFlushes() {
        byte[] img = random(1 << 20);
        try (FakeImageioServer fake = new FakeImageioServer(img, List.of(Extent.data(0, img.length)),
                FakeImageioServer.upstream());
             ImageioClient c = ImageioClient.create(fake.url(),
                    ImageioClientOptions.defaults().withConnections(2).withRetries(1))) {
            byte[] data = "hello".getBytes();
            c.write(100, ByteBuffer.wrap(data), false).block(T);
            c.writeZeros(1000, 300_000, false).block(T);
            c.zero(500_000, 1000, false).block(T);
            c.flush().block(T);
            assertArrayEquals(data, Arrays.copyOfRange(fake.image(), 100, 105));
            assertTrue(allZero(fake.image(), 1000, 301_000));
            assertTrue(allZero(fake.image(), 500_000, 501_000));
            assertEquals(1, fake.flushes());
        }
    }

    @Test
    void parsesOptionsAndExtents() {
        byte[] img = random(8192);
        List<Extent> ext = List.of(Extent.data(0, 4096), Extent.zero(4096, 4096));
        try (FakeImageioServer fake = new FakeImageioServer(img, ext, FakeImageioServer.upstream());
             ImageioClient c = ImageioClient.create(fake.url(),
                    ImageioClientOptions.defaults().withConnections(1).withRetries(0))) {
            ImageOptions o = c.options().block(T);
            assertTrue(o.has(Features.ZERO) && o.has(Features.EXTENTS) && !o.has(Features.EXTENTS_RANGE));
            assertTrue(o.writable());
            assertTrue(o.size().isEmpty());
            assertEquals(ext, c.extents(null, null).block(T));
            assertEquals(8192L, c.sizeByRange().block(T));
        }
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
