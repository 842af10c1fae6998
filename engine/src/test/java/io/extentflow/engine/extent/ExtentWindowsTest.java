package io.extentflow.engine.extent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class ExtentWindowsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** A map of 4 KiB-multiple extents with random flags, unmerged (neighbours may share flags). */
    static List<Extent> randomMap(long size, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Extent> out = new ArrayList<>();
        long pos = 0;
        while (pos < size) {
            long len = Math.min(size - pos, 4096L * (1 + rnd.nextInt(64)));
            out.add(switch (rnd.nextInt(3)) {
                case 0 -> Extent.data(pos, len);
                case 1 -> Extent.zero(pos, len);
                default -> Extent.hole(pos, len);
            });
            pos += len;
        }
        return out;
    }

    /** A fetcher over a fixed map that answers at most {@code maxAnswer} extents per call. */
    static ExtentWindows.WindowFetcher fetcher(List<Extent> map, int maxAnswer, List<long[]> calls) {
        return (start, length) -> {
            calls.add(new long[] {start, length});
            List<Extent> out = new ArrayList<>();
            for (Extent e : map) {
                if (e.end() > start && out.size() < maxAnswer) {
                    out.add(e.start() < start ? e.withRange(start, e.end() - start) : e);
                }
            }
            return Mono.just(out);
        };
    }

    /** What a correct answer is: the map clipped to the range with equal neighbours merged. */
    static List<Extent> expected(List<Extent> map, long start, long end) {
        List<Extent> out = new ArrayList<>();
        for (Extent e : map) {
            if (e.end() <= start || e.start() >= end) {
                continue;
            }
            Extent c = e.clip(start, end);
            if (!out.isEmpty() && out.get(out.size() - 1).sameKind(c)) {
                Extent p = out.remove(out.size() - 1);
                c = p.withRange(p.start(), c.end() - p.start());
            }
            out.add(c);
        }
        return out;
    }

    @Test
    void randomUnalignedRangesAreClippedAndMerged() {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int i = 0; i < 200; i++) {
            List<Extent> map = randomMap(8 << 20, i);
            long start = rnd.nextLong(8 << 20);
            long length = 1 + rnd.nextLong((8 << 20) - start);
            long window = 1 + rnd.nextLong(2 << 20);
            List<Extent> got = ExtentWindows.windowed("t", start, length, window,
                    fetcher(map, 1 + rnd.nextInt(5), new CopyOnWriteArrayList<>())).collectList().block(TIMEOUT);
            assertEquals(expected(map, start, start + length), got, "case " + i);
        }
    }

    @Test
    void aRangeEndingAtTheLargestOffsetDoesNotOverflow() {
        long window = 1L << 30;
        long start = Long.MAX_VALUE - 3 * window - 5;
        List<Extent> map = List.of(Extent.zero(start, 2 * window), Extent.data(start + 2 * window, window + 5));
        List<long[]> calls = new CopyOnWriteArrayList<>();
        List<Extent> got = ExtentWindows.windowed("t", start, Long.MAX_VALUE - start, window, fetcher(map, 10, calls))
                .collectList().block(TIMEOUT);
        assertEquals(map, got);
        long[] last = calls.get(calls.size() - 1);
        assertEquals(Long.MAX_VALUE, last[0] + last[1], "the last window ends at the range's end");
        assertTrue(calls.size() <= 5, calls.size() + " calls: a sixteenth, then whole windows");
    }

    /**
     * A fetcher of alternating 4 KiB data and hole extents (nbdkit sparse-random runlength=1000),
     * made on the fly; counts the extents it hands out.
     */
    static ExtentWindows.WindowFetcher tinyExtents(AtomicLong handedOut, List<long[]> calls) {
        return (start, length) -> {
            calls.add(new long[] {start, length});
            List<Extent> out = new ArrayList<>();
            for (long pos = start - start % 4096; pos < start + length; pos += 4096) {
                out.add((pos / 4096) % 2 == 0 ? Extent.data(pos, 4096) : Extent.hole(pos, 4096));
            }
            handedOut.addAndGet(out.size());
            return Mono.just(out);
        };
    }

    @Test
    void denseExtentsComeInWindowsOfBoundedCountNotBoundedBytes() {
        // 256 MiB windows of 4 KiB extents held 65,536 extents each, two at a time: the heap of a copy
        // of nbdkit sparse-random runlength=1000 grew to its limit (perf/README.md, "Memory")
        AtomicLong handedOut = new AtomicLong();
        List<long[]> calls = new CopyOnWriteArrayList<>();
        long size = 1L << 30;
        long[] consumed = {0};
        long[] mostHeld = {0};
        long count = ExtentWindows.windowed("t", 0, size, 256L << 20, tinyExtents(handedOut, calls))
                .doOnNext(e -> {
                    consumed[0]++;
                    mostHeld[0] = Math.max(mostHeld[0], handedOut.get() - consumed[0]);
                })
                .count().block(TIMEOUT);
        assertEquals(size / 4096, count);
        assertTrue(mostHeld[0] <= 3L * ExtentWindows.TARGET_EXTENTS,
                mostHeld[0] + " extents fetched and not yet consumed");
        for (long[] call : calls.subList(1, calls.size() - 1)) {
            assertEquals(ExtentWindows.TARGET_EXTENTS * 4096L, call[1], "windows sized to the density");
        }
    }

    @Test
    void sparseRangesKeepTheCallersWindows() {
        long window = 1L << 30;
        List<long[]> calls = new CopyOnWriteArrayList<>();
        List<Extent> map = List.of(Extent.hole(0, 8 * window));
        assertEquals(map, ExtentWindows.windowed("t", 0, 8 * window, window, fetcher(map, 10, calls))
                .collectList().block(TIMEOUT));
        assertEquals(window / 16, calls.get(0)[1], "the first window is a sixteenth");
        for (long[] call : calls.subList(1, calls.size() - 1)) {
            assertEquals(window, call[1]);
        }
        assertTrue(calls.size() <= 9, calls.size() + " calls for 8 windows");
    }

    @Test
    void mergesAcrossWindowBoundaries() {
        List<Extent> map = List.of(Extent.data(0, 1 << 20));
        List<Extent> got = ExtentWindows.windowed("t", 0, 1 << 20, 4096, fetcher(map, 10, new ArrayList<>()))
                .collectList().block(TIMEOUT);
        assertEquals(List.of(Extent.data(0, 1 << 20)), got);
    }

    @Test
    void shortAnswersAreAskedAgainFromWhereTheyEnded() {
        List<Extent> map = randomMap(1 << 20, 3);
        List<long[]> calls = new CopyOnWriteArrayList<>();
        List<Extent> got = ExtentWindows.windowed("t", 0, 1 << 20, 1 << 20, fetcher(map, 1, calls))
                .collectList().block(TIMEOUT);
        assertEquals(expected(map, 0, 1 << 20), got);
        assertEquals(map.size(), calls.size(), "one call per extent when the source answers one at a time");
    }

    @Test
    void windowsAreFetchedLazilyWithOneWindowOfPrefetch() {
        List<Extent> map = randomMap(64 << 20, 5);
        List<long[]> calls = new CopyOnWriteArrayList<>();
        StepVerifier.create(ExtentWindows.windowed("t", 0, 64 << 20, 1 << 20, fetcher(map, 1000, calls)), 1)
                .expectNextCount(1)
                .then(() -> assertTrue(calls.size() <= 2, "fetched " + calls.size() + " windows for one extent"))
                .thenCancel()
                .verify(TIMEOUT);
        assertTrue(calls.size() <= 2);
    }

    @Test
    void aGapInTheAnswerIsAnError() {
        ExtentWindows.WindowFetcher broken = (s, l) -> Mono.just(List.of(Extent.data(s + 4096, l)));
        StepVerifier.create(ExtentWindows.windowed("nbd://x", 0, 1 << 20, 1 << 20, broken))
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("not contiguous")
                        && e.getMessage().contains("nbd://x"), e.getMessage()))
                .verify(TIMEOUT);
    }

    @Test
    void anEmptyAnswerIsAnErrorNotALoop() {
        StepVerifier.create(ExtentWindows.windowed("t", 0, 1 << 20, 1 << 20, (s, l) -> Mono.just(List.of())))
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("no extents"), e.getMessage()))
                .verify(TIMEOUT);
    }

    @Test
    void answersLongerThanAskedAreClipped() {
        ExtentWindows.WindowFetcher greedy = (s, l) -> Mono.just(List.of(Extent.hole(s, 1L << 40)));
        assertEquals(List.of(Extent.hole(100, 5000)),
                ExtentWindows.windowed("t", 100, 5000, 1024, greedy).collectList().block(TIMEOUT));
    }

    @Test
    void mergeJoinsOnlyEqualAdjacentExtents() {
        Flux<Extent> in = Flux.just(Extent.data(0, 10), Extent.data(10, 5), Extent.zero(15, 5), Extent.hole(20, 5),
                Extent.hole(25, 5));
        assertEquals(List.of(Extent.data(0, 15), Extent.zero(15, 5), Extent.hole(20, 10)),
                ExtentWindows.merge(in).collectList().block(TIMEOUT));
    }

    @Test
    void emptyRangeHasNoExtents() {
        StepVerifier.create(ExtentWindows.windowed("t", 5, 0, 10, (s, l) -> Mono.error(new AssertionError())))
                .verifyComplete();
    }
}
