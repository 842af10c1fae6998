package io.extentflow.engine.extent;

import io.extentflow.engine.Extent;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Turns a source's "extents of this range" call into the lazy, windowed, merged stream every
 * {@link io.extentflow.engine.ImageSource#extents} must return.
 *
 * <p>The range is cut into windows. Each window is fetched with as many calls to the source's
 * {@link WindowFetcher} as it takes (a source may answer with less than it was asked for, as NBD
 * servers do); the next window is fetched while the current one is consumed, never more. The output
 * is clipped to the range, checked for gaps and overlaps, and adjacent extents with equal flags are
 * merged, also across window boundaries.
 *
 * <p><b>Windows are sized by extents, not only by bytes.</b> A window's list is held until the copy
 * has walked it, and the next one beside it, so what they cost is their number of extents: 256 MiB
 * of nbdkit's sparse-random {@code runlength=1000} are 65,536 extents of 4 KiB (2.5 MB of objects,
 * twice that while a reply is decoded), alive long enough for every young collection to promote
 * them, and the heap grew to its limit (peak RSS 199 MiB against 116 MiB for other NBD copies;
 * perf/README.md, "Memory"). So the first window is a sixteenth of the caller's size, and each next
 * one is sized from the density of the last so that it holds about {@value #TARGET_EXTENTS}
 * extents: never more than the caller's size, never less than {@value #MIN_WINDOW} bytes (or the
 * caller's size, if smaller). A sparse image keeps the caller's windows; a fragmented one gets more,
 * smaller windows, each one more round trip to the source, made while the previous window is
 * consumed.
 */
public final class ExtentWindows {

    /** Extents a window is sized to hold, from the density of the window before it. */
    public static final int TARGET_EXTENTS = 2048;

    /** The smallest window the density may choose (a caller's smaller window stays as it is). */
    public static final long MIN_WINDOW = 1L << 20;


    private ExtentWindows() {
    }

    /**
     * Fetches part of a window.
     */
    @FunctionalInterface
    public interface WindowFetcher {
        /**
         * Extents starting exactly at {@code start}, ascending and contiguous, covering a non-empty
         * prefix of {@code [start, start + length)}. They may run past the end (they are clipped).
         */
        Mono<List<Extent>> fetch(long start, long length);
    }

    /**
     * The extents of {@code [start, start + length)}, fetched in windows of at most
     * {@code windowSize} bytes, smaller where extents are dense (see the class comment).
     *
     * @param endpoint for error messages
     */
    public static Flux<Extent> windowed(String endpoint, long start, long length, long windowSize,
                                        WindowFetcher fetcher) {
        if (start < 0 || length < 0 || windowSize <= 0 || start > Long.MAX_VALUE - length) {
            return Flux.error(new IllegalArgumentException("bad extents range start=" + start + " length="
                    + length + " window=" + windowSize));
        }
        if (length == 0) {
            return Flux.empty();
        }
        long end = start + length;
        // expand: the next window is asked for once this one has arrived (its density sizes the next)
        // and is handed on only when asked for, so one window is fetched ahead of the one consumed
        Flux<Window> windows = fetchWindow(endpoint, start, start + Math.min(firstWindow(windowSize), length), fetcher)
                .expand(w -> w.end() >= end ? Mono.empty()
                        : fetchWindow(endpoint, w.end(), w.end() + Math.min(nextWindow(w, windowSize), end - w.end()),
                                fetcher), 1);
        return merge(windows.concatMapIterable(Window::extents, 1));
    }

    /** A fetched window: {@code [start, end)} and its extents, clipped to it. */
    private record Window(long start, long end, List<Extent> extents) {
    }

    /** The first window: a sixteenth of the caller's size, at least {@link #MIN_WINDOW} (or the caller's size). */
    static long firstWindow(long windowSize) {
        return Math.min(windowSize, Math.max(MIN_WINDOW, windowSize / 16));
    }

    /**
     * The size of the window after {@code previous}: about {@link #TARGET_EXTENTS} extents at its
     * density, in whole {@link #MIN_WINDOW}s, within [{@code MIN_WINDOW}, {@code windowSize}].
     */
    static long nextWindow(Window previous, long windowSize) {
        long length = previous.end() - previous.start();
        int count = Math.max(1, previous.extents().size());
        long bytesPerExtent = Math.max(1, length / count);
        long fit = bytesPerExtent > Long.MAX_VALUE / TARGET_EXTENTS ? Long.MAX_VALUE : bytesPerExtent * TARGET_EXTENTS;
        return Math.min(windowSize, Math.max(MIN_WINDOW, fit - fit % MIN_WINDOW));
    }

    /** What one window {@code [ws, we)} of a range gives: a list, asked for once. */
    @FunctionalInterface
    public interface WindowList<T> {
        Mono<List<T>> of(long ws, long we);
    }

    /**
     * The items of {@code [start, start + length)} window by window ({@code windowSize} bytes each, the
     * last one shorter), in order: one window fetched at a time, one ready ahead of the one consumed.
     * Nothing overflows for a range ending at 2^63-1. The caller checks the range.
     */
    public static <T> Flux<T> perWindow(long start, long length, long windowSize, WindowList<T> window) {
        long end = start + length;
        long windows = length / windowSize + (length % windowSize == 0 ? 0 : 1);
        return Flux.range(0, (int) Math.min(windows, Integer.MAX_VALUE))
                .flatMapSequential(i -> {
                    long ws = start + i * windowSize;
                    return window.of(ws, ws + Math.min(windowSize, end - ws));
                }, 1, 1)
                .concatMapIterable(list -> list, 1);
    }

    /** All of {@code [ws, we)}, asking again from where each answer ended. */
    private static Mono<Window> fetchWindow(String endpoint, long ws, long we, WindowFetcher fetcher) {
        return fetchPart(endpoint, ws, we, fetcher)
                .expand(part -> {
                    long reached = part.get(part.size() - 1).end();
                    return reached < we ? fetchPart(endpoint, reached, we, fetcher) : Mono.empty();
                })
                .collectList()
                .map(parts -> new Window(ws, we, parts.size() == 1 ? parts.get(0) : concat(parts)));
    }

    private static List<Extent> concat(List<List<Extent>> parts) {
        int n = 0;
        for (List<Extent> p : parts) {
            n += p.size();
        }
        List<Extent> all = new ArrayList<>(n);
        for (List<Extent> p : parts) {
            all.addAll(p);
        }
        return all;
    }

    private static Mono<List<Extent>> fetchPart(String endpoint, long from, long to, WindowFetcher fetcher) {
        return fetcher.fetch(from, to - from).map(list -> checkAndClip(endpoint, from, to, list));
    }

    /** Checks that {@code list} starts at {@code from} with no gap or overlap, and clips it to {@code to}. */
    static List<Extent> checkAndClip(String endpoint, long from, long to, List<Extent> list) {
        if (list.isEmpty()) {
            throw new IllegalStateException(endpoint + ": no extents returned for offset " + from);
        }
        List<Extent> out = new ArrayList<>(list.size());
        long expected = from;
        for (Extent e : list) {
            if (e.start() != expected) {
                throw new IllegalStateException(endpoint + ": extents not contiguous: expected offset "
                        + expected + ", got " + e.start());
            }
            out.add(e.clip(from, to));
            expected = e.end();
            if (expected >= to) {
                break;
            }
        }
        return out;
    }

    /** Merges adjacent extents with equal flags (see {@link Runs#merge(Flux)}). The input must be contiguous. */
    public static Flux<Extent> merge(Flux<Extent> extents) {
        return Runs.merge(extents);
    }
}
