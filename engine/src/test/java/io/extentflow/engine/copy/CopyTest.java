package io.extentflow.engine.copy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ForwardingImageSink;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.MemoryImage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class CopyTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /**
     * A fragmented image (small data extents with zero blocks inside some, holes and zero extents
     * between them) goes through gathered requests, whose data runs reach the sink in one
     * writePieces call each: every byte lands, the zero blocks inside data become zero requests, and
     * the observer sees every byte once, as data or as zeros.
     */
    @Test
    void aGatheredRequestWritesItsDataRunsAndZeroesItsZeroBlocks() {
        int size = 8 << 20;
        byte[] bytes = new byte[size];
        SplittableRandom rnd = new SplittableRandom(27);
        List<Extent> extents = new ArrayList<>();
        long zeroInData = 0;
        for (int at = 0; at < size; at += 32 << 10) {
            byte[] run = new byte[16 << 10];
            rnd.nextBytes(run);
            if (at % (5 * (32 << 10)) == 0) {
                Arrays.fill(run, 4096, 8192, (byte) 0); // a zero block inside a data extent
                zeroInData += 4096;
            }
            System.arraycopy(run, 0, bytes, at, run.length);
            extents.add(Extent.data(at, run.length));
            extents.add(at % (64 << 10) == 0 ? Extent.hole(at + (16 << 10), 16 << 10)
                    : Extent.zero(at + (16 << 10), 16 << 10));
        }
        MemoryImage src = MemoryImage.source(bytes, extents);
        MemoryImage dst = MemoryImage.sink(size, false);
        rnd.nextBytes(dst.bytes()); // not known zero: holes and zeros must be zeroed
        long[] observed = new long[1];
        CopyObserver count = new CopyObserver() {
            @Override
            public void data(long offset, java.nio.ByteBuffer data) {
                observed[0] += data.remaining();
            }

            @Override
            public void zero(long offset, long length) {
                observed[0] += length;
            }
        };
        CopyResult r = Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(1 << 20))
                .observe(count).run().block(TIMEOUT);

        assertArrayEquals(bytes, dst.bytes());
        assertEquals(size / 2 - zeroInData, r.dataBytes());
        assertEquals(size / 2 + zeroInData, r.zeroedBytes() + r.skippedBytes());
        assertEquals(size, observed[0]);
    }

    /** 4 KiB of data, then a 4 KiB hole, in turn: every request of 64 KiB is gathered. */
    static MemoryImage tinyExtents(int size) {
        byte[] bytes = new byte[size];
        List<Extent> extents = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(9);
        for (int at = 0; at < size; at += 8192) {
            byte[] run = new byte[4096];
            rnd.nextBytes(run);
            System.arraycopy(run, 0, bytes, at, 4096);
            extents.add(Extent.data(at, 4096));
            extents.add(Extent.hole(at + 4096, 4096));
        }
        return MemoryImage.source(bytes, extents);
    }

    /** {@code target} with its skips answered by {@code skip} (offset, length). */
    private static ImageSink skipping(ImageSink target, java.util.function.BiFunction<Long, Long, Mono<Void>> skip) {
        return new ForwardingImageSink() {
            @Override
            public ImageSink delegate() {
                return target;
            }

            @Override
            public Mono<Void> skip(long offset, long length) {
                return skip.apply(offset, length);
            }
        };
    }

    /**
     * The holes of gathered requests are skips: counted at once where the sink's skip finished on
     * the spot (a random-access target), subscribed to where it did not (a sequential one), and a
     * skip that fails names its own offset.
     */
    @Test
    void theSkippedPiecesOfGatheredRequestsAreCountedAndAFailedSkipNamesItsOffset() {
        int size = 1 << 20;
        MemoryImage src = tinyExtents(size);
        List<Long> lateSkips = new java.util.concurrent.CopyOnWriteArrayList<>();
        MemoryImage plain = MemoryImage.sink(size, true);
        ImageSink later = skipping(plain, (offset, length) -> Mono.fromRunnable(() -> lateSkips.add(length)));
        for (ImageSink dst : List.of(MemoryImage.sink(size, true), later)) {
            CopyResult r = Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(64 << 10))
                    .run().block(TIMEOUT);
            assertEquals(size / 2, r.dataBytes());
            assertEquals(size / 2, r.skippedBytes());
        }
        assertEquals(size / 2, lateSkips.stream().mapToLong(Long::longValue).sum());
        assertArrayEquals(src.bytes(), plain.bytes());

        long failing = 5 * 8192 + 4096;
        MemoryImage target = MemoryImage.sink(size, true);
        ImageSink refusing = skipping(target,
                (offset, length) -> offset == failing ? Mono.error(new IllegalStateException("no room")) : Mono.empty());
        StepVerifier.create(Copy.from(src).to(refusing).options(CopyOptions.defaults().withRequestSize(64 << 10)).run())
                .expectErrorSatisfies(e -> {
                    ImageIoException io = assertInstanceOf(ImageIoException.class, e);
                    assertEquals("skip", io.operation());
                    assertEquals(failing, io.offset());
                    assertTrue(io.getMessage().contains("no room"), io.getMessage());
                })
                .verify(TIMEOUT);
    }

    /** A random image: data runs (some with zero blocks inside), zero extents and holes. */
    static MemoryImage randomSource(int size, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] bytes = new byte[size];
        List<Extent> extents = new ArrayList<>();
        int pos = 0;
        while (pos < size) {
            int len = Math.min(size - pos, 512 * (1 + rnd.nextInt(200)));
            switch (rnd.nextInt(4)) {
                case 0, 1 -> {
                    byte[] chunk = new byte[len];
                    rnd.nextBytes(chunk);
                    if (rnd.nextBoolean() && len > 12288) {
                        // an aligned zero block inside data, for zero detection
                        int at = ((pos + 4096 + 4095) / 4096) * 4096 - pos;
                        Arrays.fill(chunk, at, Math.min(len, at + 4096), (byte) 0);
                    }
                    System.arraycopy(chunk, 0, bytes, pos, len);
                    extents.add(Extent.data(pos, len));
                }
                case 2 -> extents.add(Extent.zero(pos, len));
                default -> extents.add(Extent.hole(pos, len));
            }
            pos += len;
        }
        return MemoryImage.source(bytes, extents);
    }

    static MemoryImage garbageSink(int size, long seed) {
        MemoryImage sink = MemoryImage.sink(size, false);
        new SplittableRandom(seed).nextBytes(sink.bytes());
        return sink;
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5})
    void copiesRandomImagesExactlyOverGarbage(long seed) {
        MemoryImage src = randomSource(3 << 20, seed);
        MemoryImage dst = garbageSink(3 << 20, seed + 100);
        CopyResult r = Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(64 << 10)
                .withMaxInFlight(256 << 10)).run().block(TIMEOUT);
        assertArrayEquals(src.bytes(), dst.bytes());
        assertEquals(src.size(), r.dataBytes() + r.zeroedBytes() + r.skippedBytes());
        assertEquals(0, r.skippedBytes(), "a target not known to be zero needs every zero written");
        assertEquals(1, dst.flushes());
    }

    @ParameterizedTest
    @ValueSource(longs = {7, 8, 9})
    void knownZeroTargetGetsNoZeroRequests(long seed) {
        MemoryImage src = randomSource(2 << 20, seed);
        MemoryImage dst = MemoryImage.sink(2 << 20, true);
        CopyResult r = Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(64 << 10))
                .run().block(TIMEOUT);
        assertArrayEquals(src.bytes(), dst.bytes());
        assertEquals(0, dst.zeroRequests());
        assertEquals(0, r.zeroedBytes());
        assertTrue(r.skippedBytes() > 0);
    }

    @Test
    void zeroExtentsAreNeverRead() {
        MemoryImage src = MemoryImage.source(new byte[1 << 20], List.of(Extent.zero(0, 1 << 19),
                Extent.hole(1 << 19, 1 << 19)));
        MemoryImage dst = garbageSink(1 << 20, 1);
        CopyResult r = Copy.from(src).to(dst).run().block(TIMEOUT);
        assertEquals(0, src.reads());
        assertEquals(0, r.readBytes());
        assertEquals(1 << 20, dst.zeroedBytes());
        assertArrayEquals(new byte[1 << 20], dst.bytes());
    }

    @Test
    void zeroBlocksInsideDataBecomeZeroRequestsOnlyWhenDetectionIsOn() {
        byte[] bytes = new byte[64 << 10];
        new SplittableRandom(3).nextBytes(bytes);
        Arrays.fill(bytes, 8192, 8192 + 3 * 4096, (byte) 0);
        List<Extent> map = List.of(Extent.data(0, bytes.length));

        MemoryImage dst = garbageSink(bytes.length, 4);
        CopyResult on = Copy.from(MemoryImage.source(bytes, map)).to(dst).run().block(TIMEOUT);
        assertArrayEquals(bytes, dst.bytes());
        assertEquals(3 * 4096, on.zeroedBytes());
        assertEquals(bytes.length - 3 * 4096, on.dataBytes());
        assertEquals(1, dst.zeroRequests());

        MemoryImage dst2 = garbageSink(bytes.length, 5);
        CopyResult off = Copy.from(MemoryImage.source(bytes, map)).to(dst2)
                .options(CopyOptions.defaults().withDetectZeroes(false)).run().block(TIMEOUT);
        assertArrayEquals(bytes, dst2.bytes());
        assertEquals(0, off.zeroedBytes());
        assertEquals(0, dst2.zeroRequests());
    }

    @Test
    void holesWithoutZeroAreLeftUntouched() {
        byte[] bytes = new byte[3 * 4096];
        Arrays.fill(bytes, (byte) 7);
        MemoryImage src = MemoryImage.source(bytes, List.of(Extent.data(0, 4096),
                new Extent(4096, 4096, false, true), Extent.data(8192, 4096)));
        MemoryImage dst = MemoryImage.sink(bytes.length, false);
        Arrays.fill(dst.bytes(), (byte) 9);
        CopyResult r = Copy.from(src).to(dst).run().block(TIMEOUT);
        assertEquals(4096, r.skippedBytes());
        assertEquals(9, dst.bytes()[4096 + 100], "a hole left to the backing chain must not be written");
        assertEquals(7, dst.bytes()[100]);
        assertEquals(7, dst.bytes()[8192 + 100]);
    }

    @Test
    void progressGrowsAndEndsExactlyAtTheSize() {
        MemoryImage src = randomSource(5 << 20, 11);
        MemoryImage dst = garbageSink(5 << 20, 12);
        List<CopyProgress> seen = Copy.from(src).to(dst)
                .options(CopyOptions.defaults().withRequestSize(128 << 10)).progress()
                .collectList().block(TIMEOUT);
        assertTrue(seen.size() > 10);
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i).done() >= seen.get(i - 1).done(), "progress went back at " + i);
        }
        CopyProgress last = seen.get(seen.size() - 1);
        assertEquals(src.size(), last.done());
        assertEquals(1.0, last.fraction());
        assertTrue(seen.stream().allMatch(p -> p.done() <= src.size()));
    }

    @Test
    void automaticRequestSizeIsTheSmallestPreferenceOfTheEnds() {
        byte[] bytes = new byte[16 << 20];
        new SplittableRandom(3).nextBytes(bytes);
        record Case(int sourcePrefers, int sinkPrefers, int requestSize, int expectedLargestRead) {
        }
        for (Case c : List.of(new Case(0, 0, CopyOptions.AUTOMATIC_REQUEST_SIZE, CopyOptions.DEFAULT_REQUEST_SIZE),
                new Case(1 << 20, 0, CopyOptions.AUTOMATIC_REQUEST_SIZE, 1 << 20),
                new Case(1 << 20, 256 << 10, CopyOptions.AUTOMATIC_REQUEST_SIZE, 256 << 10),
                new Case(0, 256 << 10, CopyOptions.AUTOMATIC_REQUEST_SIZE, 256 << 10),
                new Case(1 << 20, 256 << 10, 2 << 20, 2 << 20))) {
            MemoryImage src = MemoryImage.source(bytes, List.of(Extent.data(0, bytes.length)))
                    .preferRequests(c.sourcePrefers());
            MemoryImage dst = MemoryImage.sink(bytes.length, true).preferRequests(c.sinkPrefers());
            Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(c.requestSize())).run().block(TIMEOUT);
            assertArrayEquals(bytes, dst.bytes());
            assertEquals(c.expectedLargestRead(), src.largestRead(), c::toString);
        }
        MemoryImage src = MemoryImage.source(bytes, List.of(Extent.data(0, bytes.length)));
        Copy.from(src).to(MemoryImage.sink(bytes.length, true))
                .options(CopyOptions.defaults().withMaxInFlight(512 << 10)).run().block(TIMEOUT);
        assertEquals(512 << 10, src.largestRead(), "the automatic size stays within the bytes in flight");
    }

    @Test
    void bytesInFlightNeverExceedTheBound() {
        int requestSize = 64 << 10;
        long maxInFlight = 4L * requestSize;
        MemoryImage src = MemoryImage.source(new byte[8 << 20], List.of(Extent.data(0, 8 << 20)));
        new SplittableRandom(1).nextBytes(src.bytes());
        MemoryImage dst = MemoryImage.sink(8 << 20, true).delay(Duration.ofMillis(2));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<Double> gaugeSamples = new ArrayList<>();
        CopyResult r = Copy.from(src).to(dst).metrics(registry)
                .options(CopyOptions.defaults().withRequestSize(requestSize).withMaxInFlight(maxInFlight))
                .run(p -> gaugeSamples.add(registry.get("extentflow.copy.inflight.bytes").gauge().value()))
                .block(TIMEOUT);
        assertArrayEquals(src.bytes(), dst.bytes());
        assertTrue(r.peakBytesInFlight() <= maxInFlight, "peak " + r.peakBytesInFlight());
        assertEquals(maxInFlight, r.peakBytesInFlight(), "a slow sink should fill the whole budget");
        assertTrue(src.peakInFlight() <= 4, "reads in flight " + src.peakInFlight());
        assertTrue(gaugeSamples.stream().allMatch(v -> v <= maxInFlight), "gauge above the bound");
    }

    @Test
    void cancellationStopsPromptlyAndReleasesEveryBuffer() throws Exception {
        MemoryImage src = MemoryImage.source(new byte[32 << 20], List.of(Extent.data(0, 32 << 20)));
        new SplittableRandom(2).nextBytes(src.bytes());
        MemoryImage dst = MemoryImage.sink(32 << 20, true).delay(Duration.ofMillis(20));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CountDownLatch someProgress = new CountDownLatch(3);
        Disposable running = Copy.from(src).to(dst).metrics(registry)
                .options(CopyOptions.defaults().withRequestSize(64 << 10).withMaxInFlight(1 << 20))
                .progress().subscribe(p -> someProgress.countDown());
        assertTrue(someProgress.await(30, TimeUnit.SECONDS));
        Gauge inFlight = registry.get("extentflow.copy.inflight.bytes").gauge();
        assertTrue(inFlight.value() > 0, "the copy should hold buffers while running");
        running.dispose();
        // requests that were mid-flight on other threads return their buffers as they unwind
        Await.until(Duration.ofSeconds(5), "every buffer released after cancel", () -> inFlight.value() == 0.0);
        assertTrue(dst.writes() < (32 << 20) / (64 << 10), "the copy ran to the end despite cancel");
        assertTrue(registry.find("extentflow.copy.inflight.bytes").gauges().isEmpty(),
                "the per-copy gauge should be removed");
    }

    @Test
    void readErrorNamesOperationOffsetAndEndpoint() {
        long bad = 1_000_000;
        MemoryImage data = MemoryImage.source(new byte[2 << 20], List.of(Extent.data(0, 2 << 20))).failReadAt(
                off -> off <= bad && bad < off + (64 << 10) && off % (64 << 10) == 0);
        StepVerifier.create(Copy.from(data).to(MemoryImage.sink(2 << 20, true))
                        .options(CopyOptions.defaults().withRequestSize(64 << 10)).run())
                .expectErrorSatisfies(e -> {
                    ImageIoException io = assertInstanceOf(ImageIoException.class, e);
                    assertEquals("read", io.operation());
                    assertEquals(983040, io.offset());
                    assertEquals(65536, io.length());
                    assertEquals("memory:test", io.endpoint());
                    assertTrue(io.getMessage().contains("offset 983040"), io.getMessage());
                    assertTrue(io.getMessage().contains("injected read failure"), io.getMessage());
                })
                .verify(TIMEOUT);
    }

    @Test
    void writeErrorNamesOperationAndOffset() {
        MemoryImage src = MemoryImage.source(new byte[1 << 20], List.of(Extent.data(0, 1 << 20)));
        new SplittableRandom(5).nextBytes(src.bytes());
        MemoryImage dst = MemoryImage.sink(1 << 20, true).failWriteAt(off -> off == 3 * 65536);
        StepVerifier.create(Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(64 << 10)).run())
                .expectErrorSatisfies(e -> {
                    ImageIoException io = assertInstanceOf(ImageIoException.class, e);
                    assertEquals("write", io.operation());
                    assertEquals(3 * 65536, io.offset());
                })
                .verify(TIMEOUT);
    }

    @Test
    void sizeMismatchIsRefusedBeforeAnythingMoves() {
        MemoryImage src = randomSource(1 << 20, 1);
        MemoryImage dst = MemoryImage.sink(1 << 19, true);
        StepVerifier.create(Copy.from(src).to(dst).run())
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("has size"), e.getMessage()))
                .verify(TIMEOUT);
        assertEquals(0, src.reads());
    }

    @Test
    void flushOnlyWhenAsked() {
        MemoryImage src = randomSource(1 << 20, 3);
        MemoryImage dst = MemoryImage.sink(1 << 20, true);
        Copy.from(src).to(dst).options(CopyOptions.defaults().withFlush(false)).run().block(TIMEOUT);
        assertEquals(0, dst.flushes());
    }

    @Test
    void emptyImageCompletesWithFullProgress() {
        MemoryImage src = MemoryImage.source(new byte[0], List.of());
        CopyResult r = Copy.from(src).to(MemoryImage.sink(0, true)).run().block(TIMEOUT);
        assertEquals(0, r.size());
    }

    @Test
    void metricsCountBytesByKind() {
        MemoryImage src = randomSource(2 << 20, 31);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        CopyResult r = Copy.from(src).to(garbageSink(2 << 20, 1)).metrics(registry).run().block(TIMEOUT);
        assertEquals(r.dataBytes(), registry.get("extentflow.copy.bytes").tag("kind", "written").counter().count());
        assertEquals(r.zeroedBytes(), registry.get("extentflow.copy.bytes").tag("kind", "zeroed").counter().count());
        assertEquals(r.readBytes(), registry.get("extentflow.copy.bytes").tag("kind", "read").counter().count());
        assertTrue(registry.get("extentflow.copy.requests").tag("op", "read").timer().count() > 0);
        assertEquals(1, registry.get("extentflow.copy.duration").timer().count());
    }

    @Test
    void checkpointIsADonePrefixThatReachesTheSize() {
        MemoryImage src = randomSource(4 << 20, 41);
        MemoryImage dst = garbageSink(4 << 20, 42).delay(Duration.ofMillis(1));
        List<CopyProgress> seen = Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(64 << 10))
                .progress().collectList().block(TIMEOUT);
        long previous = 0;
        for (CopyProgress p : seen) {
            assertTrue(p.checkpoint() >= previous, "checkpoint went back");
            assertTrue(p.checkpoint() <= p.done(), "checkpoint ahead of the work done");
            previous = p.checkpoint();
        }
        assertEquals(4 << 20, seen.get(seen.size() - 1).checkpoint());
    }

    @Test
    void anInterruptedCopyResumedAtItsCheckpointEndsIdentical() throws Exception {
        MemoryImage src = randomSource(16 << 20, 43);
        MemoryImage dst = garbageSink(16 << 20, 44).delay(Duration.ofMillis(5));
        CopyOptions options = CopyOptions.defaults().withRequestSize(64 << 10).withMaxInFlight(512 << 10);
        java.util.concurrent.atomic.AtomicReference<CopyProgress> last = new java.util.concurrent.atomic.AtomicReference<>();
        CountDownLatch someProgress = new CountDownLatch(20);
        Disposable first = Copy.from(src).to(dst).options(options).progress().subscribe(p -> {
            last.set(p);
            someProgress.countDown();
        });
        assertTrue(someProgress.await(30, TimeUnit.SECONDS));
        first.dispose();
        long checkpoint = last.get().checkpoint();
        assertTrue(checkpoint > 0 && checkpoint < src.size(), "checkpoint " + checkpoint);
        int readsBefore = src.reads();

        CopyResult r = Copy.from(src).to(dst.delay(Duration.ZERO)).options(options).resumeAt(checkpoint).run()
                .block(TIMEOUT);
        assertArrayEquals(src.bytes(), dst.bytes());
        assertEquals(checkpoint, r.resumedBytes());
        assertEquals(src.size() - checkpoint, r.dataBytes() + r.zeroedBytes() + r.skippedBytes());
        MemoryImage fresh = randomSource(16 << 20, 43);
        Copy.from(fresh).to(garbageSink(16 << 20, 1)).options(options).run().block(TIMEOUT);
        assertTrue(src.reads() - readsBefore < fresh.reads(), "the resumed copy read " + (src.reads() - readsBefore)
                + " times, a whole copy reads " + fresh.reads());
    }

    @Test
    void resumingLeavesTheDonePartUntouched() {
        MemoryImage src = randomSource(2 << 20, 45);
        MemoryImage dst = garbageSink(2 << 20, 46);
        byte[] before = dst.bytes().clone();
        CopyResult r = Copy.from(src).to(dst).resumeAt(1 << 20).run().block(TIMEOUT);
        assertArrayEquals(Arrays.copyOfRange(before, 0, 1 << 20), Arrays.copyOfRange(dst.bytes(), 0, 1 << 20));
        assertArrayEquals(Arrays.copyOfRange(src.bytes(), 1 << 20, 2 << 20),
                Arrays.copyOfRange(dst.bytes(), 1 << 20, 2 << 20));
        assertEquals(2 << 20, r.size());
        assertEquals(1 << 20, r.resumedBytes());
    }
}
