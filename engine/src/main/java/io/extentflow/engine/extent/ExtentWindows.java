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
 * <p>The range is cut into fixed windows. Each window is fetched with as many calls to the source's
 * {@link WindowFetcher} as it takes (a source may answer with less than it was asked for, as NBD
 * servers do); the next window is fetched while the current one is consumed, never more. The output
 * is clipped to the range, checked for gaps and overlaps, and adjacent extents with equal flags are
 * merged, also across window boundaries.
 */
public final class ExtentWindows {


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
     * The extents of {@code [start, start + length)}, fetched in windows of {@code windowSize} bytes.
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
        return merge(perWindow(start, length, windowSize, (ws, we) -> fetchWindow(endpoint, ws, we, fetcher)));
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
    private static Mono<List<Extent>> fetchWindow(String endpoint, long ws, long we, WindowFetcher fetcher) {
        return fetchPart(endpoint, ws, we, fetcher)
                .expand(part -> {
                    long reached = part.get(part.size() - 1).end();
                    return reached < we ? fetchPart(endpoint, reached, we, fetcher) : Mono.empty();
                })
                .collect(ArrayList<Extent>::new, List::addAll)
                .map(l -> (List<Extent>) l);
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
