package io.extentflow.sources.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.CachedReads;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.PageCache;
import io.extentflow.engine.testing.TestImages;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.test.StepVerifier;

class RawFileSourceTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** qemu-img's view of a raw file's extents, as our Extent values. */
    static List<Extent> qemuExtents(Path image, long start, long length) throws Exception {
        String out = ExternalTool.check("qemu-img", "map", "--output=json", "-f", "raw",
                "--start-offset", Long.toString(start), "--max-length", Long.toString(length), image.toString());
        List<Extent> list = new ArrayList<>();
        for (JsonNode n : JSON.readTree(out)) {
            long s = n.get("start").asLong();
            long l = n.get("length").asLong();
            Extent e = n.get("data").asBoolean() ? Extent.data(s, l) : Extent.hole(s, l);
            if (!list.isEmpty() && list.get(list.size() - 1).sameKind(e)) {
                Extent p = list.remove(list.size() - 1);
                e = p.withRange(p.start(), p.length() + l);
            }
            list.add(e);
        }
        return list;
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void extentsEqualQemuImgMapForWholeImageAndRandomWindows(long seed) throws Exception {
        Path img = dir.resolve("img.raw");
        long size = 64L << 20;
        TestImages.randomSparseRaw(img, size, seed, 40, 2 << 20);
        try (RawFileSource src = RawFileSource.open(img, 1 << 20).block(TIMEOUT)) {
            assertEquals(qemuExtents(img, 0, size), src.extents(0, size).collectList().block(TIMEOUT));
            SplittableRandom rnd = new SplittableRandom(seed);
            for (int i = 0; i < 10; i++) {
                long start = rnd.nextLong(size);
                long length = 1 + rnd.nextLong(size - start);
                assertEquals(qemuExtents(img, start, length), src.extents(start, length).collectList().block(TIMEOUT),
                        "window " + start + "+" + length);
            }
        }
    }

    @Test
    void smallWindowsGiveTheSameExtentsAsOneLargeWindow() throws Exception {
        Path img = dir.resolve("img.raw");
        TestImages.randomSparseRaw(img, 16 << 20, 9, 50, 1 << 20);
        try (RawFileSource big = RawFileSource.open(img).block(TIMEOUT);
             RawFileSource small = RawFileSource.open(img, 65536).block(TIMEOUT)) {
            assertEquals(big.extents(0, 16 << 20).collectList().block(TIMEOUT),
                    small.extents(0, 16 << 20).collectList().block(TIMEOUT));
        }
    }

    @Test
    void anEmptyTerabyteFileIsOneHole() throws Exception {
        Path img = dir.resolve("empty.raw");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(1L << 40);
        }
        try (ImageSource src = Endpoints.source(img.toString()).block(TIMEOUT)) {
            assertEquals("raw", src.format());
            assertEquals(List.of(Extent.hole(0, 1L << 40)), src.extents(0, 1L << 40).collectList().block(TIMEOUT));
        }
    }

    @Test
    void readsWhatWasWritten() throws Exception {
        Path img = dir.resolve("img.raw");
        byte[] data = new byte[100_000];
        new SplittableRandom(4).nextBytes(data);
        Files.write(img, data);
        try (ImageSource src = Endpoints.source("file:" + img).block(TIMEOUT)) {
            ByteBuffer b = ByteBuffer.allocateDirect(5000);
            src.read(12_345, b).block(TIMEOUT);
            b.flip();
            byte[] got = new byte[5000];
            b.get(got);
            byte[] want = new byte[5000];
            System.arraycopy(data, 12_345, want, 0, 5000);
            assertArrayEquals(want, got);
        }
    }

    @Test
    void requestsOutsideTheImageAreErrorsNamingTheRange() throws Exception {
        Path img = Files.write(dir.resolve("img.raw"), new byte[8192]);
        try (ImageSource src = Endpoints.source(img.toString()).block(TIMEOUT)) {
            StepVerifier.create(src.extents(4096, 8192))
                    .expectErrorSatisfies(e -> {
                        assertTrue(e instanceof ImageIoException, e.toString());
                        assertTrue(e.getMessage().contains("offset 4096") && e.getMessage().contains("outside"),
                                e.getMessage());
                    })
                    .verify(TIMEOUT);
            StepVerifier.create(src.read(8000, ByteBuffer.allocate(500)))
                    .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("outside"), e.getMessage()))
                    .verify(TIMEOUT);
        }
    }

    @Test
    void missingFileAndDirectoryGetPlainMessages() {
        StepVerifier.create(Endpoints.source(dir.resolve("nope.raw").toString()))
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("no such file"), e.getMessage()))
                .verify(TIMEOUT);
        StepVerifier.create(Endpoints.source(dir.toString()))
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("is a directory"), e.getMessage()))
                .verify(TIMEOUT);
    }

    /**
     * {@link CachedReads} reads what is in the page cache and stops at the first page that is not
     * (RWF_NOWAIT), and the ordinary read completes the rest byte for byte.
     */
    @Test
    void cachedReadsReadThePageCacheAndStopWhereItEnds() throws Exception {
        int size = 8 << 20;
        byte[] bytes = new byte[size];
        new SplittableRandom(5).nextBytes(bytes);
        Path img = Files.write(dir.resolve("img.raw"), bytes);
        try (RawFileSource src = RawFileSource.open(img).block(TIMEOUT)) {
            CachedReads cached = src.capability(CachedReads.class).orElseThrow();

            ByteBuffer all = ByteBuffer.allocateDirect(size);
            assertEquals(size, cached.readCached(0, all), "just written: all cached");
            assertEquals(size, all.position());
            assertArrayEquals(bytes, contents(all, size));

            PageCache.evict(img, 0, size);
            ByteBuffer none = ByteBuffer.allocateDirect(size);
            assertEquals(0, cached.readCached(0, none), "evicted: nothing read, nothing waited for");
            assertEquals(0, none.position());

            src.read(0, ByteBuffer.allocateDirect(size)).block(TIMEOUT); // the ordinary read caches it again
            PageCache.evict(img, size / 2, size / 2);
            ByteBuffer half = ByteBuffer.allocateDirect(size);
            int n = cached.readCached(0, half);
            assertTrue(n >= size / 2 && n < size, "the cached first half, not all: " + n);
            src.readPieces(0, half.position(0), List.of(Extent.data(n, size - n))).block(TIMEOUT);
            assertArrayEquals(bytes, contents(half, size), "the rest read the ordinary way");

            assertEquals(0, cached.readCached(0, ByteBuffer.allocate(4096)), "a heap buffer is not read into");
            assertEquals(0, cached.readCached(size - 4096, ByteBuffer.allocateDirect(8192)), "past the end");
        }
    }

    private static byte[] contents(ByteBuffer buffer, int length) {
        byte[] out = new byte[length];
        buffer.get(0, out);
        return out;
    }
}
