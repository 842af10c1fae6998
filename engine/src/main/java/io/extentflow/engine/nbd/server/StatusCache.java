package io.extentflow.engine.nbd.server;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The block status of the ranges clients asked for last, per metadata context, so that a BLOCK_STATUS
 * inside one of them is answered from memory, on the event loop, with no call to the source at all.
 *
 * <p>Why: a client mapping an image asks one range after the other and waits for each answer
 * ({@code nbdinfo --map} of a 1 TiB image: 257 requests of 4 GiB, 32-bit lengths). Asking the source
 * each time cost every round trip a walk of Reactor operators over the source's map, several times
 * the cost of the socket calls themselves. So a request that continues a cached range (starts where
 * one ends) fetches {@link #AHEAD} times its length at once, and the next requests find their answer
 * here; other requests fetch what they ask, and are cached too (a client asking the same range again).
 *
 * <p>A cached range holds exactly the descriptors a report straight from the source would (merged
 * runs, each clipped to what was asked), so the part of it a request covers is the same reply, byte for
 * byte. What is kept is bounded: ranges of at most {@link #RANGE_DESCRIPTORS} descriptors (a longer
 * fetch stops there and covers less), at most {@link #MAX_RANGES} ranges and
 * {@link #MAX_DESCRIPTORS} descriptors in all, the least recently used going first. A write, zero or
 * trim drops everything ({@link #invalidate}), and a range fetched while one ran is not kept.
 */
final class StatusCache {

    /** A request continuing a cached range fetches this many times its own length. */
    static final int AHEAD = 16;
    /** Descriptors of one cached range at most. */
    static final int RANGE_DESCRIPTORS = 4096;
    /** Ranges kept at most, all contexts together. */
    static final int MAX_RANGES = 32;
    /** Descriptors kept at most in all ranges (20 bytes each: about 1.3 MiB). */
    static final int MAX_DESCRIPTORS = 64 * 1024;

    /** One cached range of one context: a report of {@code [start, report.end())}. */
    private record Range(int context, long start, BlockStatusReport report) {

        boolean covers(int id, long offset, long end) {
            return context == id && start <= offset && end <= report.end();
        }
    }

    private final long imageSize;
    private final AtomicLong generation = new AtomicLong();
    /** Least recently used first; guarded by itself. */
    private final List<Range> ranges = new ArrayList<>();

    StatusCache(long imageSize) {
        this.imageSize = imageSize;
    }

    /** Drops what is cached: the image changed. */
    void invalidate() {
        generation.incrementAndGet();
        synchronized (ranges) {
            ranges.clear();
        }
    }

    /**
     * The report of {@code [offset, offset + length)} (inside the image) for {@code context}, from
     * memory, or null when no cached range covers it. Never blocks: for the event loop.
     */
    @Nullable BlockStatusReport cached(MetaContexts.Selected context, long offset, long length, boolean reqOne) {
        Range hit = find(context.id(), offset, offset + length);
        return hit == null ? null : hit.report.part(offset, length, reqOne);
    }

    /**
     * The report of {@code [offset, offset + length)} (inside the image) for {@code context}: from
     * memory when cached, else fetched from the context's map (a range AHEAD times as long when the
     * request continues a cached one) and cached.
     */
    Mono<BlockStatusReport> report(MetaContexts.Selected context, long offset, long length, boolean reqOne) {
        return Mono.defer(() -> {
            long end = offset + length;
            Range hit = find(context.id(), offset, end);
            if (hit != null) {
                return Mono.just(hit.report.part(offset, length, reqOne));
            }
            long gen = generation.get();
            long span = continues(context.id(), offset) ? ahead(offset, length) : length;
            return BlockStatusReport.collect(context.map(), offset, span, RANGE_DESCRIPTORS)
                    .flatMap(fetched -> {
                        keep(new Range(context.id(), offset, fetched.trimmed()), gen);
                        if (end <= fetched.end()) {
                            return Mono.just(fetched.part(offset, length, reqOne));
                        }
                        // more descriptors than a cached range holds: the request's own report
                        return BlockStatusReport.of(context.map(), offset, length, reqOne);
                    });
        });
    }

    /** AHEAD times {@code length}, within the image (and without overflow). */
    private long ahead(long offset, long length) {
        long left = imageSize - offset;
        return length >= left / AHEAD ? left : length * AHEAD;
    }

    private @Nullable Range find(int context, long offset, long end) {
        synchronized (ranges) {
            for (int i = ranges.size() - 1; i >= 0; i--) {
                Range r = ranges.get(i);
                if (r.covers(context, offset, end)) {
                    if (i != ranges.size() - 1) {
                        ranges.remove(i);
                        ranges.add(r); // most recently used last
                    }
                    return r;
                }
            }
            return null;
        }
    }

    /** True when a cached range of {@code context} ends at {@code offset}: the client reads on in order. */
    private boolean continues(int context, long offset) {
        synchronized (ranges) {
            for (Range r : ranges) {
                if (r.context == context && r.report.end() == offset) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Caches {@code range}, fetched in generation {@code gen}, and lets the oldest go beyond the bounds. */
    private void keep(Range range, long gen) {
        synchronized (ranges) {
            if (generation.get() != gen) {
                return; // the image changed while it was fetched
            }
            ranges.add(range);
            int total = 0;
            for (Range r : ranges) {
                total += r.report.count();
            }
            Iterator<Range> oldest = ranges.iterator();
            while ((ranges.size() > MAX_RANGES || total > MAX_DESCRIPTORS) && ranges.size() > 1) {
                Range r = oldest.next();
                total -= r.report.count();
                oldest.remove();
            }
        }
    }
}
