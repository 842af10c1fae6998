package io.extentflow.engine.nbd.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.Extent;
import io.extentflow.engine.testing.MemoryImage;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The READ path's extent windows: clients reading at several places keep their windows (one shared
 * window was taken from reader to reader, and every READ asked the source for a whole window again),
 * a read across windows gets both parts, and a change drops them all.
 */
class ExtentCacheTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int MIB = 1 << 20;

    /** 8 MiB: data, hole, data, hole, in 1 MiB windows (the source fetches 1 MiB at a time too). */
    private final MemoryImage image = MemoryImage.source(new byte[8 * MIB], List.of(
            Extent.data(0, 3 * MIB / 2), Extent.hole(3 * MIB / 2, 2 * MIB), Extent.data(7 * MIB / 2, MIB),
            Extent.hole(9 * MIB / 2, 7 * MIB / 2)));
    private final ExtentCache cache = new ExtentCache(image, MIB);

    @Test
    void readersAtSeveralPlacesKeepTheirWindows() {
        for (int round = 0; round < 20; round++) {
            for (int window = 0; window < 8; window++) {
                extents(window * (long) MIB + 4096L * round, 4096);
            }
        }
        assertEquals(8, image.windowFetches(), "each window fetched once");
    }

    @Test
    void aReadAcrossWindowsGetsBothParts() {
        assertEquals(List.of(Extent.data(MIB, MIB / 2), Extent.hole(3 * MIB / 2, MIB / 2)),
                extents(MIB, MIB));
        assertEquals(List.of(Extent.hole(3 * MIB, MIB / 2), Extent.data(7 * MIB / 2, MIB / 2)),
                extents(3 * MIB, MIB));
        // window by window, in order, each clipped (a READ reply may have more chunks than needed)
        assertEquals(List.of(Extent.data(MIB / 2, MIB / 2), Extent.data(MIB, MIB / 2),
                Extent.hole(3 * MIB / 2, MIB / 2), Extent.hole(2 * MIB, MIB), Extent.hole(3 * MIB, MIB / 2),
                Extent.data(7 * MIB / 2, MIB / 2)), extents(MIB / 2, 7 * MIB / 2));
    }

    @Test
    void aChangeDropsEveryWindow() {
        extents(0, 4096);
        extents(5L * MIB, 4096);
        cache.invalidate();
        extents(0, 4096);
        extents(5L * MIB, 4096);
        assertEquals(4, image.windowFetches());
    }

    @Test
    void windowsBeyondTheBoundGoLeastRecentlyUsedFirst() {
        MemoryImage big = MemoryImage.source(new byte[(ExtentCache.MAX_WINDOWS + 1) * MIB],
                List.of(Extent.data(0, (ExtentCache.MAX_WINDOWS + 1) * (long) MIB)));
        ExtentCache bounded = new ExtentCache(big, MIB);
        for (int w = 0; w <= ExtentCache.MAX_WINDOWS; w++) {
            bounded.extents(w * (long) MIB, 4096).collectList().block(WAIT);
        }
        assertEquals(ExtentCache.MAX_WINDOWS + 1, big.windowFetches());
        // the newest MAX_WINDOWS are kept; the first one went
        bounded.extents(ExtentCache.MAX_WINDOWS * (long) MIB, 4096).collectList().block(WAIT);
        bounded.extents(MIB, 4096).collectList().block(WAIT);
        assertEquals(ExtentCache.MAX_WINDOWS + 1, big.windowFetches());
        bounded.extents(0, 4096).collectList().block(WAIT);
        assertEquals(ExtentCache.MAX_WINDOWS + 2, big.windowFetches());
    }

    private List<Extent> extents(long offset, long length) {
        return cache.extents(offset, length).collectList().block(WAIT);
    }
}
