package io.extentflow.engine.extent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
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
        assertEquals(4, calls.size(), "three whole windows and the last 5 bytes");
        assertEquals(5, calls.get(3)[1]);
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
