package io.extentflow.engine.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.capability.AllocationExtents;
import io.extentflow.engine.nbd.NbdExtent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * Block status from the cache is the reply the map itself gives, for any range inside what is cached
 * (clipped at both ends, REQ_ONE, several contexts); a client mapping in order asks the map a few
 * times, not once per request; a change drops everything; a range with more descriptors than a cached
 * range holds still gets its whole reply.
 */
class StatusCacheTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long SIZE = 1L << 30;

    /** Runs of 4-64 KiB with 4 values, adjacent equal values not merged (maps need not merge). */
    private static List<NbdExtent> layout(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<NbdExtent> runs = new ArrayList<>();
        for (long at = 0; at < SIZE; ) {
            long length = Math.min(SIZE - at, 4096L * random.nextInt(1, 17));
            runs.add(new NbdExtent(at, length, random.nextInt(4)));
            at += length;
        }
        return runs;
    }

    /** A map over {@code runs} that counts the times it is asked. */
    private record CountingMap(List<NbdExtent> runs, AtomicInteger asked) implements AllocationExtents {

        CountingMap(List<NbdExtent> runs) {
            this(runs, new AtomicInteger());
        }

        @Override
        public Flux<NbdExtent> map(long start, long length) {
            asked.incrementAndGet();
            return Flux.fromIterable(runs).filter(e -> e.end() > start && e.offset() < start + length);
        }
    }

    private final CountingMap map = new CountingMap(layout(5));
    private final MetaContexts.Selected context = new MetaContexts.Selected(0, "base:allocation", map);
    private final StatusCache cache = new StatusCache(SIZE);

    @Test
    void aClientMappingInOrderGetsTheMapsRepliesFromAFewFetches() {
        // large runs so that a request is not cut by the descriptor bound: 1 GiB in 16 MiB requests
        List<NbdExtent> coarse = new ArrayList<>();
        for (long at = 0; at < SIZE; at += 1 << 20) {
            coarse.add(new NbdExtent(at, 1 << 20, (int) ((at >> 20) % 3 == 0 ? 1 : 0)));
        }
        CountingMap coarseMap = new CountingMap(coarse);
        MetaContexts.Selected c = new MetaContexts.Selected(0, "base:allocation", coarseMap);
        int requests = 0;
        for (long at = 0; at < SIZE; requests++) {
            long length = Math.min(16L << 20, SIZE - at);
            BlockStatusReport got = cache.report(c, at, length, false).block(WAIT);
            assertSame(direct(coarseMap, at, length, false), got);
            at = got.end();
        }
        int fetches = coarseMap.asked().get() - requests; // direct() asked once per request
        assertEquals(64, requests);
        assertTrue(fetches <= 1 + (64 + StatusCache.AHEAD - 1) / StatusCache.AHEAD, fetches + " fetches");
    }

    @Test
    void anyRangeInsideACachedOneGetsTheSameReplyAsFromTheMap() {
        cache.report(context, 0, 64L << 20, false).block(WAIT);
        SplittableRandom random = new SplittableRandom(9);
        for (int i = 0; i < 500; i++) {
            long offset = random.nextLong(64L << 20);
            long length = random.nextLong(1, (64L << 20) - offset + 1);
            boolean reqOne = random.nextInt(4) == 0;
            BlockStatusReport fromMemory = cache.cached(context, offset, length, reqOne);
            assertNotNull(fromMemory, offset + "+" + length);
            assertSame(direct(map, offset, length, reqOne), fromMemory);
        }
        assertNull(cache.cached(context, (64L << 20) - 4096, 8192, false), "past the cached range");
        assertNull(cache.cached(new MetaContexts.Selected(1, "qemu:allocation-depth", map), 0, 4096, false),
                "another context");
    }

    @Test
    void aChangeDropsEverything() {
        cache.report(context, 0, 1 << 20, false).block(WAIT);
        assertNotNull(cache.cached(context, 0, 4096, false));
        cache.invalidate();
        assertNull(cache.cached(context, 0, 4096, false));
    }

    @Test
    void aRangeWithMoreDescriptorsThanACachedRangeHoldsGetsItsWholeReply() {
        // 1 GiB of 4-64 KiB runs: far more than RANGE_DESCRIPTORS
        BlockStatusReport got = cache.report(context, 0, SIZE, false).block(WAIT);
        assertTrue(got.count() > StatusCache.RANGE_DESCRIPTORS, got.count() + " descriptors");
        assertSame(direct(map, 0, SIZE, false), got);
        // what was cached is its first part, exactly
        BlockStatusReport head = cache.cached(context, 0, 1 << 20, false);
        assertNotNull(head);
        assertSame(direct(map, 0, 1 << 20, false), head);
    }

    private static BlockStatusReport direct(CountingMap m, long offset, long length, boolean reqOne) {
        return BlockStatusReport.of(m, offset, length, reqOne).block(WAIT);
    }

    private static void assertSame(BlockStatusReport expected, BlockStatusReport actual) {
        assertEquals(expected.start(), actual.start());
        assertEquals(expected.end(), actual.end());
        assertArrayEquals(expected.lengths(), actual.lengths());
        assertArrayEquals(expected.flags(), actual.flags());
    }
}
