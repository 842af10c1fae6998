package io.extentflow.engine.nbd.server;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The source's extents for READ replies (which send zero ranges as holes), one window at a time: a
 * client reading in order asks the source once per window, not once per read (an HTTP source would
 * pay a round trip each time).
 *
 * <p>Several windows are kept, the most recently used, because clients read at several places at
 * once: nbdcopy's connections, or several clients. With a single window they took it from each other,
 * and every READ asked the source again for a whole window (for a qcow2 source, a walk of 4,096
 * clusters per 256 KiB read: a gigabyte of garbage per gigabyte served, and the heap grew to match).
 * Readers that miss the same window at once share one fetch. What is kept is bounded: at most
 * {@link #MAX_WINDOWS} windows and {@link #MAX_EXTENTS} extents in all (beyond that the least recently
 * used windows go, all but the newest).
 *
 * <p>A write, zero or trim invalidates every window before its reply is sent, and a window fetched
 * while one ran is not used, so no read after a change sees old extents.
 */
final class ExtentCache {

    /** Bytes per window. */
    static final long WINDOW = 256L << 20;
    /** Windows kept at most: a few per connection of a few clients. */
    static final int MAX_WINDOWS = 16;
    /** Extents kept at most in all windows (about 3 MiB of heap), so a fragmented image stays bounded too. */
    static final int MAX_EXTENTS = 64 * 1024;

    /**
     * A window's extents (fetched once, shared by whoever waits for them), the generation it is of, and
     * once fetched the extents themselves ({@code done[0]}, for {@link #cached}).
     */
    private record Window(long generation, Mono<List<Extent>> extents, int[] count, List<?>[] done) {
    }

    private final ImageSource source;
    private final long windowSize;
    private final long imageSize;
    private final AtomicLong generation = new AtomicLong();
    /** Window start to window, least recently used first; guarded by itself. */
    private final LinkedHashMap<Long, Window> windows = new LinkedHashMap<>(MAX_WINDOWS * 2, 0.75f, true);

    ExtentCache(ImageSource source) {
        this(source, WINDOW);
    }

    /** With windows of {@code window} bytes (tests use small ones). */
    ExtentCache(ImageSource source, long windowSize) {
        this.source = source;
        this.windowSize = windowSize;
        this.imageSize = source.size();
    }

    /** Drops what is cached: the image changed. */
    void invalidate() {
        generation.incrementAndGet();
        synchronized (windows) {
            windows.clear();
        }
    }

    /** The extents of {@code [offset, offset + length)}, clipped to it; the range must be inside the image. */
    Flux<Extent> extents(long offset, long length) {
        long end = offset + length;
        long start = offset - offset % windowSize;
        long windowEnd = Math.min(imageSize, start + windowSize);
        if (end > windowEnd) {
            // across a window's end: the rest from the next window(s)
            return extents(offset, windowEnd - offset).concatWith(extents(windowEnd, end - windowEnd));
        }
        return window(start, windowEnd).flatMapIterable(list -> clip(list, offset, end));
    }

    /**
     * The extents of {@code [offset, offset + length)} like {@link #extents}, but only from windows
     * already fetched: null when one is not (or is of an older generation). Never waits: for the event
     * loop, where it saves a READ the walk through Reactor operators of {@link #extents}.
     */
    @Nullable List<Extent> cached(long offset, long length) {
        long end = offset + length;
        long gen = generation.get();
        List<Extent> out = null;
        for (long at = offset; at < end; ) {
            long start = at - at % windowSize;
            long windowEnd = Math.min(imageSize, start + windowSize);
            List<Extent> extents;
            synchronized (windows) {
                Window w = windows.get(start);
                if (w == null || w.generation != gen || w.done[0] == null) {
                    return null;
                }
                @SuppressWarnings("unchecked")
                List<Extent> fetched = (List<Extent>) w.done[0];
                extents = fetched;
            }
            List<Extent> part = clip(extents, at, Math.min(end, windowEnd));
            if (out == null) {
                out = part;
            } else {
                out.addAll(part);
            }
            at = windowEnd;
        }
        return out;
    }

    private Mono<List<Extent>> window(long start, long end) {
        long gen = generation.get();
        Window w;
        synchronized (windows) {
            w = windows.get(start);
            if (w == null || w.generation != gen) {
                int[] count = new int[1];
                List<?>[] done = new List<?>[1];
                Mono<List<Extent>> fetch = source.extents(start, end - start).collectList()
                        .doOnNext(list -> {
                            counted(start, count, list.size());
                            synchronized (windows) {
                                done[0] = list;
                            }
                        })
                        .doOnError(e -> forget(start, count))
                        .cache();
                w = new Window(gen, fetch, count, done);
                windows.put(start, w);
            }
        }
        return w.extents;
    }

    /** A window arrived with {@code n} extents: count them, and let go of the oldest windows beyond the bounds. */
    private void counted(long start, int[] count, int n) {
        synchronized (windows) {
            count[0] = n;
            int total = 0;
            for (Window w : windows.values()) {
                total += w.count[0];
            }
            Iterator<Map.Entry<Long, Window>> oldest = windows.entrySet().iterator();
            while ((windows.size() > MAX_WINDOWS || total > MAX_EXTENTS) && oldest.hasNext()) {
                Map.Entry<Long, Window> e = oldest.next();
                if (e.getKey() == start) {
                    continue; // the newest stays, whatever its size
                }
                total -= e.getValue().count[0];
                oldest.remove();
            }
        }
    }

    /** A fetch failed: the next reader asks again. */
    private void forget(long start, int[] count) {
        synchronized (windows) {
            Window w = windows.get(start);
            if (w != null && w.count == count) {
                windows.remove(start);
            }
        }
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
