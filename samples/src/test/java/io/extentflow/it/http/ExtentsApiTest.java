package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.imageio.ImageioClientOptions;
import io.extentflow.engine.imageio.ImageioClient;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sources.file.RawFileSource;
import io.extentflow.sources.http.HttpSource;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Partial extents ({@code start}/{@code length}) on our server, and the HTTP source's windows. */
class ExtentsApiTest {

    @TempDir
    Path dir;

    /** The part of a whole-image list inside {@code [from, to)}, clipped. */
    private static List<Extent> slice(List<Extent> whole, long from, long to) {
        List<Extent> out = new ArrayList<>();
        for (Extent e : whole) {
            if (e.end() > from && e.start() < to) {
                out.add(e.clip(from, to));
            }
        }
        return out;
    }

    @Test
    void partialExtentsEqualTheSliceOfTheWholeList() throws Exception {
        long size = 8L << 20;
        Path image = dir.resolve("sparse.raw");
        TestImages.randomSparseRaw(image, size, 21, 30, 128 << 10);
        try (ServerFixture f = new ServerFixture(dir);
             ImageioClient client = ImageioClient.create(f.addTicket("x", image, size, "read"),
                    ImageioClientOptions.defaults().withConnections(2).withRetries(0))) {
            List<Extent> whole = client.extents(null, null).block(ServerFixture.TIMEOUT);
            assertTrue(whole.size() > 10, "a sparse image has many extents: " + whole.size());
            assertEquals(0, whole.get(0).start());
            assertEquals(size, whole.get(whole.size() - 1).end());
            SplittableRandom rnd = new SplittableRandom(7);
            for (int i = 0; i < 60; i++) {
                long start = rnd.nextLong(size);
                long length = 1 + rnd.nextLong(size - start + (size / 4)); // sometimes past the end
                List<Extent> part = client.extents(start, length).block(ServerFixture.TIMEOUT);
                assertEquals(slice(whole, start, Math.min(size, start + length)), part,
                        "start=" + start + " length=" + length);
            }
            // length defaults to the rest of the image; the end gives an empty list
            assertEquals(slice(whole, size / 2, size), client.extents(size / 2, null).block(ServerFixture.TIMEOUT));
            assertEquals(List.of(), client.extents(size, null).block(ServerFixture.TIMEOUT));
            ImageIoException past = assertThrows(ImageIoException.class,
                    () -> client.extents(size + 1, 10L).block(ServerFixture.TIMEOUT));
            assertTrue(past.getMessage().contains("HTTP 416"), past.getMessage());
        }
    }

    /** A 1 TiB sparse image: the source asks in windows, never for the whole image. */
    @Test
    void sourceFetchesExtentsOfAHugeImageInWindows() throws Exception {
        long size = 1L << 40;
        Path image = dir.resolve("huge.raw");
        byte[] data = new byte[1 << 20];
        new SplittableRandom(3).nextBytes(data);
        long[] at = {0, 300L << 30, size - (1 << 20)};
        try (RandomAccessFile raf = new RandomAccessFile(image.toFile(), "rw")) {
            raf.setLength(size);
            for (long off : at) {
                raf.seek(off);
                raf.write(data);
            }
        }
        long window = 64L << 30;
        try (ServerFixture f = new ServerFixture(dir);
             HttpSource src = HttpSource.open(f.addTicket("huge", image, size, "read"), EndpointOptions.defaults(),
                     window).block(ServerFixture.TIMEOUT);
             RawFileSource local = RawFileSource.open(image).block(ServerFixture.TIMEOUT)) {
            assertEquals(size, src.size());
            List<Extent> remote = src.extents(0, size).collectList().block(ServerFixture.TIMEOUT);
            List<Extent> expected = local.extents(0, size).collectList().block(ServerFixture.TIMEOUT);
            assertEquals(expected, remote);
            // a sixteenth of a window first (ExtentWindows sizes the next from its density), then whole windows
            assertEquals(size / window + 1, (long) f.counter("extentflow.server.extents.requests", "form", "range"));
            assertEquals(0, f.counter("extentflow.server.extents.requests", "form", "whole"));
            ByteBuffer buf = ByteBuffer.allocateDirect(data.length);
            src.read(at[1], buf).block(ServerFixture.TIMEOUT);
            assertEquals(ByteBuffer.wrap(data), buf.flip());
        }
    }
}
