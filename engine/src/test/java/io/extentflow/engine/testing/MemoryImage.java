package io.extentflow.engine.testing;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.extent.ExtentWindows;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * An image held in memory, usable as a source and as a sink, for testing the copy operator's own
 * logic (ordering, bounds, cancellation, errors) where no real peer is involved. It can delay and
 * fail requests on purpose, and counts what it was asked.
 */
public final class MemoryImage implements ImageSource, ImageSink {

    private final byte[] bytes;
    private final List<Extent> extents;
    private final boolean knownZero;
    private Duration delay = Duration.ZERO;
    private LongPredicate failReadAt = off -> false;
    private LongPredicate failWriteAt = off -> false;
    private final AtomicInteger reads = new AtomicInteger();
    private final AtomicInteger writes = new AtomicInteger();
    private final AtomicInteger zeroes = new AtomicInteger();
    private final AtomicInteger flushes = new AtomicInteger();
    private final AtomicInteger windowFetches = new AtomicInteger();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();
    private final AtomicLong zeroedBytes = new AtomicLong();
    private final AtomicInteger largestRead = new AtomicInteger();
    private int preferredRequestSize;

    private MemoryImage(byte[] bytes, List<Extent> extents, boolean knownZero) {
        this.bytes = bytes;
        this.extents = extents;
        this.knownZero = knownZero;
    }

    /** A source with these bytes and this extent map (which must cover the bytes exactly). */
    public static MemoryImage source(byte[] bytes, List<Extent> extents) {
        return new MemoryImage(bytes, List.copyOf(extents), false);
    }

    /** An empty sink of {@code size} bytes; {@code knownZero} says whether it advertises it. */
    public static MemoryImage sink(int size, boolean knownZero) {
        return new MemoryImage(new byte[size], List.of(new Extent(0, Math.max(1, size), true, true)), knownZero);
    }

    /** Every request takes this long (on the parallel scheduler's timer, not a blocked thread). */
    /** Makes this image prefer requests of {@code bytes} ({@link #preferredRequestSize()}). */
    public MemoryImage preferRequests(int bytes) {
        this.preferredRequestSize = bytes;
        return this;
    }

    @Override
    public int preferredRequestSize() {
        return preferredRequestSize;
    }

    /** The longest read asked of this source. */
    public int largestRead() {
        return largestRead.get();
    }

    public MemoryImage delay(Duration value) {
        delay = value;
        return this;
    }

    /** Reads covering an offset that matches fail. */
    public MemoryImage failReadAt(LongPredicate value) {
        failReadAt = value;
        return this;
    }

    /** Writes covering an offset that matches fail. */
    public MemoryImage failWriteAt(LongPredicate value) {
        failWriteAt = value;
        return this;
    }

    public byte[] bytes() {
        return bytes;
    }

    @Override
    public String endpoint() {
        return "memory:test";
    }

    @Override
    public String format() {
        return "raw";
    }

    @Override
    public long size() {
        return bytes.length;
    }

    @Override
    public Flux<Extent> extents(long start, long length) {
        return ExtentWindows.windowed(endpoint(), start, length, 1 << 20, (s, l) -> {
            windowFetches.incrementAndGet();
            List<Extent> out = new ArrayList<>();
            for (Extent e : extents) {
                if (e.end() > s && e.start() < s + l) {
                    out.add(e.clip(s, s + l));
                }
            }
            return Mono.just(out);
        });
    }

    @Override
    public Mono<Void> read(long offset, ByteBuffer target) {
        int n = target.remaining();
        largestRead.accumulateAndGet(n, Math::max);
        return request(() -> {
            reads.incrementAndGet();
            if (failReadAt.test(offset) || failReadAt.test(offset + n - 1)) {
                throw new java.io.IOException("injected read failure");
            }
            target.put(bytes, (int) offset, n);
        });
    }

    @Override
    public SinkCapabilities capabilities() {
        return new SinkCapabilities(knownZero, 1 << 30, 1 << 30, 4);
    }

    @Override
    public Mono<Void> write(long offset, ByteBuffer data) {
        int n = data.remaining();
        return request(() -> {
            writes.incrementAndGet();
            if (failWriteAt.test(offset) || failWriteAt.test(offset + n - 1)) {
                throw new java.io.IOException("injected write failure");
            }
            data.get(bytes, (int) offset, n);
        });
    }

    @Override
    public Mono<Void> zero(long offset, long length) {
        return request(() -> {
            zeroes.incrementAndGet();
            zeroedBytes.addAndGet(length);
            java.util.Arrays.fill(bytes, (int) offset, (int) (offset + length), (byte) 0);
        });
    }

    @Override
    public Mono<Void> flush() {
        return request(flushes::incrementAndGet);
    }

    private Mono<Void> request(Action action) {
        Mono<Void> work = Mono.fromRunnable(() -> {
            int now = inFlight.incrementAndGet();
            peakInFlight.accumulateAndGet(now, Math::max);
        }).then(Mono.fromCallable(() -> {
            action.run();
            return true;
        })).then().doFinally(s -> inFlight.decrementAndGet());
        return delay.isZero() ? work : Mono.delay(delay, Schedulers.parallel()).then(work);
    }

    @FunctionalInterface
    private interface Action {
        void run() throws Exception;
    }

    public int reads() {
        return reads.get();
    }

    public int writes() {
        return writes.get();
    }

    public int zeroRequests() {
        return zeroes.get();
    }

    public long zeroedBytes() {
        return zeroedBytes.get();
    }

    public int flushes() {
        return flushes.get();
    }

    public int windowFetches() {
        return windowFetches.get();
    }

    public int peakInFlight() {
        return peakInFlight.get();
    }

    public int inFlight() {
        return inFlight.get();
    }

    @Override
    public void close() {
    }

    @Override
    public Mono<Void> closeGracefully() {
        return Mono.empty(); // both a source and a sink; nothing to release
    }
}
