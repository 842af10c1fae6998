package io.extentflow.engine.nbd.server;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The source's extents for READ replies (which send zero ranges as holes), one window at a time: a
 * client reading in order asks the source once per window, not once per read (an HTTP source would
 * pay a round trip each time). A write, zero or trim invalidates the window before its reply is
 * sent, and a window fetched while one ran is not kept, so no read after a change sees old extents.
 */
final class ExtentCache {

    /** Bytes per window; a window's extents are what stays in memory. */
    static final long WINDOW = 256L << 20;

    private record Window(long start, long end, long generation, List<Extent> extents) {
    }

    private final ImageSource source;
    private final AtomicLong generation = new AtomicLong();
    private volatile Window window;

    ExtentCache(ImageSource source) {
        this.source = source;
    }

    /** Drops what is cached: the image changed. */
    void invalidate() {
        generation.incrementAndGet();
        window = null;
    }

    /** The extents of {@code [offset, offset + length)}, clipped to it; the range must be inside the image. */
    Flux<Extent> extents(long offset, long length) {
        long end = offset + length;
        Window w = window;
        Mono<Window> covering;
        if (w != null && w.start <= offset && end <= w.end && w.generation == generation.get()) {
            covering = Mono.just(w);
        } else {
            long start = offset - offset % WINDOW;
            long windowEnd = Math.max(end, Math.min(source.size(), start + WINDOW));
            long gen = generation.get();
            covering = source.extents(start, windowEnd - start).collectList().map(list -> {
                Window fresh = new Window(start, windowEnd, gen, list);
                if (generation.get() == gen) {
                    window = fresh;
                }
                return fresh;
            });
        }
        return covering.flatMapIterable(win -> clip(win.extents, offset, end));
    }

    /** The extents that overlap {@code [offset, end)}, clipped to it (found by binary search). */
    private static List<Extent> clip(List<Extent> extents, long offset, long end) {
        int lo = 0;
        int hi = extents.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (extents.get(mid).end() <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        List<Extent> out = new ArrayList<>();
        for (int i = lo; i < extents.size() && extents.get(i).start() < end; i++) {
            Extent e = extents.get(i);
            long from = Math.max(offset, e.start());
            long to = Math.min(end, e.end());
            out.add(from == e.start() && to == e.end() ? e : new Extent(from, to - from, e.zero(), e.hole()));
        }
        return out;
    }
}
