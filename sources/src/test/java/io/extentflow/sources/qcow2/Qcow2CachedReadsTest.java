package io.extentflow.sources.qcow2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.capability.CachedReads;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.PageCache;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CachedReads} of a qcow2 chain ({@link CachedChainReads}) reads data clusters of any layer from
 * the page cache and fills zero and unallocated ones, and stops exactly where that ends: at a compressed
 * cluster, at the first data cluster whose file is not cached, and (reading nothing) where the L2 tables
 * are not in memory yet. What it read equals qemu's view of the image.
 */
class Qcow2CachedReadsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int K64 = 64 << 10;

    @TempDir
    Path dir;

    /**
     * Guest clusters of 64 KiB: 0 top data, 1 zero, 2-3 unallocated everywhere, 4-5 the backing
     * file's data, 6 top data, 7 compressed, 8-9 top data, the rest unallocated. A raw backing file
     * is data all through (its holes would be reads to fall back on: the page cache has no pages for
     * them until a read makes them), so there 2-3 and 10-15 are its data too.
     */
    private Path chain(String backingFormat) throws Exception {
        String base = "base." + backingFormat;
        ExternalTool.check("qemu-img", "create", "-q", "-f", backingFormat, dir.resolve(base).toString(), "1M");
        Qcow2Fixtures.qemuIo(dir.resolve(base), backingFormat, backingFormat.equals("raw")
                ? "write -P 0x0b 0 1M" : "write -P 0x0b 256k 128k");
        Path top = dir.resolve("top.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=64k", "-b", base,
                "-F", backingFormat, top.toString(), "1M");
        Qcow2Fixtures.qemuIo(top, "qcow2", "write -P 0x11 0 64k", "write -z 64k 64k", "write -P 0x66 384k 64k",
                "write -c -P 0x77 448k 64k", "write -P 0x88 512k 128k");
        return top;
    }

    @Test
    void readsCachedDataAndZerosAndStopsWhereTheyEndOverAQcow2Backing() throws Exception {
        assertStopsWhereTheCachedClustersEnd("qcow2", 3 * K64);
    }

    @Test
    void readsCachedDataAndZerosAndStopsWhereTheyEndOverARawBacking() throws Exception {
        assertStopsWhereTheCachedClustersEnd("raw", K64);
    }

    /** @param fromCluster1WithoutBacking what readCached gets from cluster 1 on once the backing file is evicted */
    private void assertStopsWhereTheCachedClustersEnd(String backingFormat, int fromCluster1WithoutBacking)
            throws Exception {
        Path top = chain(backingFormat);
        byte[] expected = Files.readAllBytes(Qcow2Fixtures.qemuRaw(top, dir.resolve("expected.raw")));
        try (Qcow2Source s = Qcow2Source.openNow(top, false)) {
            CachedReads cached = s.capability(CachedReads.class).orElseThrow();
            // the files were just written, so they are cached; the L2 tables are not loaded yet
            assertRead(cached, expected, 0, 6 * K64, 0, "L2 tables not in memory: nothing read");

            s.read(0, ByteBuffer.allocateDirect((int) s.size())).block(TIMEOUT); // loads them
            assertRead(cached, expected, 0, 10 * K64, 7 * K64, "stops at the compressed cluster 7");
            assertRead(cached, expected, 8 * K64, 8 * K64, 8 * K64, "data clusters 8-9, then unallocated");
            assertRead(cached, expected, 10, 7 * K64 - 20, 7 * K64 - 20, "unaligned ends");

            PageCache.evict(top);
            assertRead(cached, expected, 0, 6 * K64, 0, "top evicted: its data cluster 0 stops the read");
            assertRead(cached, expected, K64 + 5, 8 * K64, 5 * K64 - 5,
                    "top evicted: zero, unallocated and the cached backing file's data, to top cluster 6");

            PageCache.evict(dir.resolve("base." + backingFormat));
            assertRead(cached, expected, K64, 5 * K64, fromCluster1WithoutBacking,
                    "backing evicted too: stops at its first data cluster");

            assertEquals(0, cached.readCached(0, ByteBuffer.allocate(K64)), "a heap buffer is not read into");
            assertEquals(0, cached.readCached(s.size() - K64, ByteBuffer.allocateDirect(2 * K64)), "past the end");
        }
    }

    /** readCached of {@code length} bytes at {@code offset} reads exactly {@code wanted} of them, qemu's bytes. */
    private static void assertRead(CachedReads cached, byte[] expected, long offset, int length, int wanted,
                                   String what) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(length + 3).position(3); // from a position other than 0
        int n = cached.readCached(offset, buffer);
        assertEquals(wanted, n, what);
        assertEquals(3 + n, buffer.position(), what + ": the position moved by the bytes read");
        byte[] got = new byte[n];
        buffer.get(3, got);
        assertArrayEquals(Arrays.copyOfRange(expected, (int) offset, (int) offset + n), got, what);
    }
}
