package io.extentflow.engine.copy;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.SinkCapabilities;
import io.extentflow.engine.capability.ExtentPlan;
import io.extentflow.engine.capability.OffloadedCopy;
import io.extentflow.engine.capability.Unflushed;
import io.extentflow.engine.copy.Request.Kind;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import reactor.core.Exceptions;
import reactor.core.Fuseable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The copy operator: moves an image from an {@link ImageSource} to an {@link ImageSink}, reading only
 * data extents and turning everything that reads as zeros into zero requests (or nothing, on a
 * target known to be zero). A sink that can copy data itself ({@link OffloadedCopy}: a local file
 * from a local file, in the kernel) is offered each data request first; such ranges are not read
 * here, nor scanned for zeros.
 *
 * <pre>{@code
 * CopyResult r = Copy.from(source).to(sink).options(CopyOptions.defaults()).run().block();
 * }</pre>
 *
 * <p>Immutable: every method returns a new {@code Copy}. Nothing happens until {@link #run()} or
 * {@link #progress()} is subscribed; each subscription is one copy. Memory is bounded by
 * {@link CopyOptions#maxInFlight()}; cancelling stops reads and writes and returns every buffer.
 * The caller owns the source and sink and closes them.
 */
public final class Copy {

    private final ImageSource source;
    private final ImageSink sink;
    private final CopyOptions options;
    private final MeterRegistry registry;
    private final long resumeAt;
    private final CopyObserver observer;

    private Copy(ImageSource source, ImageSink sink, CopyOptions options, MeterRegistry registry, long resumeAt,
                 CopyObserver observer) {
        this.source = source;
        this.sink = sink;
        this.options = options;
        this.registry = registry;
        this.resumeAt = resumeAt;
        this.observer = observer;
    }

    /** A copy from {@code source}; name the sink with {@link #to(ImageSink)}. */
    public static Copy from(ImageSource source) {
        return new Copy(Objects.requireNonNull(source, "source"), null, CopyOptions.defaults(),
                new CompositeMeterRegistry(), 0, null);
    }

    /** The same copy into {@code sink}. */
    public Copy to(ImageSink sink) {
        return new Copy(source, Objects.requireNonNull(sink, "sink"), options, registry, resumeAt, observer);
    }

    /** The same copy with other options. */
    public Copy options(CopyOptions value) {
        return new Copy(source, sink, Objects.requireNonNull(value, "options"), registry, resumeAt, observer);
    }

    /** The same copy, recording its meters in {@code value} (by default a registry that keeps nothing). */
    public Copy metrics(MeterRegistry value) {
        return new Copy(source, sink, options, Objects.requireNonNull(value, "registry"), resumeAt, observer);
    }

    /**
     * The same copy, showing the content it moves to {@code value} (e.g. to checksum the source from
     * the data the copy reads anyway, without a second read).
     */
    public Copy observe(CopyObserver value) {
        return new Copy(source, sink, options, registry, resumeAt, Objects.requireNonNull(value, "observer"));
    }

    /**
     * The same copy, resumed: only {@code [offset, size)} is copied, because an earlier run reported
     * {@link CopyProgress#checkpoint()} {@code offset} (everything below it was done) before it was
     * interrupted. Progress and the result count the bytes below {@code offset} as
     * {@link CopyProgress#resumed() resumed}.
     */
    public Copy resumeAt(long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("negative resume offset " + offset);
        }
        return new Copy(source, sink, options, registry, offset, observer);
    }

    /** Runs the copy and emits its result. */
    public Mono<CopyResult> run() {
        return run(p -> { });
    }

    /** Runs the copy, telling {@code onProgress} after every completed request, and emits its result. */
    public Mono<CopyResult> run(Consumer<CopyProgress> onProgress) {
        return Mono.defer(() -> new Run(onProgress).execute());
    }

    /**
     * Runs the copy and emits its progress after every completed request; the last element is
     * emitted after the final flush and has {@code done() == size()}.
     */
    public Flux<CopyProgress> progress() {
        return Flux.defer(() -> {
            return Flux.<CopyProgress>create(emitter -> {
                var d = new Run(emitter::next).execute()
                        .subscribe(r -> emitter.complete(), emitter::error);
                emitter.onDispose(d);
            });
        });
    }

    /**
     * Data requests offered to an offloaded copy are this large (a multiple of the request size):
     * the kernel shares or copies a range in one call whatever its length, and a request per
     * request size cost a file system that shares blocks twice the time (perf/README.md, "Copy
     * offload"). No buffer is held for them; if the sink declines, the range is read and written in
     * pieces of the request size, one after the other.
     */
    static final long OFFLOAD_REQUEST_SIZE = 64L << 20;

    /** What a completed request did, in bytes. */
    private record Done(long data, long zeroed, long skipped) {
        Done plus(Done o) {
            return new Done(data + o.data, zeroed + o.zeroed, skipped + o.skipped);
        }
    }

    /** A completed request: its range and what it did. */
    private record Completed(Request request, Done done) {
    }

    /** The state of one copy. */
    private final class Run {
        private final Consumer<CopyProgress> onProgress;
        /** The source size, or -1 for a stream that tells its size only at its end. */
        private final long size = source.size();
        private final boolean streaming = size < 0;
        private final SinkCapabilities caps;
        private final boolean skipZeroes;
        private final int requestSize;
        private final BufferPool pool;
        private final CopyMetrics metrics;
        /**
         * The sink's offloaded copy, or null. Not with an observer, which must see the data: the
         * kernel's copy never shows it to us.
         */
        private final OffloadedCopy offload;
        /** Set once the sink declined an offload: later data requests are cut and copied as usual. */
        private volatile boolean offloadDeclined;
        private final long started = System.nanoTime();
        private long data;
        private long zeroed;
        private long skipped;
        private long read;
        private long offloaded;
        private long nextExpected = resumeAt;
        /** Every byte below this is done; requests completed above it wait in {@link #completed}. */
        private long checkpoint = resumeAt;
        private final TreeMap<Long, Long> completed = new TreeMap<>();
        private final RequestPlanner planner;

        Run(Consumer<CopyProgress> onProgress) {
            this.onProgress = onProgress;
            if (sink == null) {
                throw new IllegalStateException("no sink: call to(sink) before running the copy");
            }
            caps = sink.capabilities();
            skipZeroes = caps.knownZero() || options.targetIsZero();
            int rs = Math.min(options.requestSize() != CopyOptions.AUTOMATIC_REQUEST_SIZE ? options.requestSize()
                    : automaticRequestSize(), caps.maxWriteSize());
            requestSize = rs >= ZeroDetector.BLOCK_SIZE ? rs - rs % ZeroDetector.BLOCK_SIZE : rs;
            pool = BufferPool.ofBytes(requestSize, options.maxInFlight());
            metrics = new CopyMetrics(registry, kind(source.endpoint()), kind(sink.endpoint()), pool);
            offload = observer == null && !streaming
                    ? sink.sinkCapability(OffloadedCopy.class).filter(o -> o.accepts(source)).orElse(null) : null;
            planner = new RequestPlanner(requestSize, caps.maxZeroSize(), skipZeroes, !source.sequential());
            if (!options.flush()) {
                sink.sinkCapability(Unflushed.class).ifPresent(Unflushed::willNotFlush);
            }
        }

        Mono<CopyResult> execute() {
            if (!streaming && sink.size() != size) {
                return Mono.error(new IllegalArgumentException("target " + sink.endpoint() + " has size "
                        + sink.size() + " but source " + source.endpoint() + " has size " + size));
            }
            int concurrency = Math.max(1, (int) (options.maxInFlight() / requestSize)) + caps.connections() + 2;
            // every sink is ended, flushed or not: a streamed target confirms the whole image only here
            Mono<Void> finish = Mono.defer(sink::finish)
                    .onErrorMap(t -> ImageIoException.wrap("finish", sink.endpoint(), 0, nextExpected, t));
            Mono<Void> flush = options.flush()
                    ? Mono.defer(() -> metrics.timeFlush(sink::flush)
                            .onErrorMap(t -> ImageIoException.wrap("flush", sink.endpoint(), 0, nextExpected, t)))
                    : Mono.empty();
            if (resumeAt > 0 && (streaming || resumeAt > size)) {
                return Mono.error(new IllegalArgumentException("cannot resume at " + resumeAt + ": "
                        + (streaming ? "a stream is copied from its start" : "past the end of the image")));
            }
            return extents()
                    .concatMapIterable(this::split, 1)
                    .concatWith(Flux.defer(() -> Flux.fromIterable(planner.end())))
                    .flatMap(r -> perform(r).map(d -> new Completed(r, d)), concurrency, 1)
                    .doOnNext(this::account)
                    .then(Mono.defer(this::checkCovered))
                    .then(finish)
                    .then(flush)
                    .then(Mono.fromSupplier(this::finish))
                    .doFinally(s -> metrics.close());
        }

        /**
         * The source's extents. A sink that lays out its target up front ({@link ExtentPlan}) gets
         * them all first, and the copy then walks the same list (a source is asked once): memory for
         * one record per extent, bounded by the number of extents, not by the image's bytes.
         */
        private Flux<Extent> extents() {
            Optional<ExtentPlan> plan = sink.sinkCapability(ExtentPlan.class);
            if (plan.isEmpty()) {
                return source.extents(resumeAt, streaming ? Long.MAX_VALUE : size - resumeAt);
            }
            if (streaming || resumeAt > 0) {
                return Flux.error(new IllegalArgumentException("target " + sink.endpoint() + " is laid out from "
                        + "the source's whole extent list before its first byte: "
                        + (streaming ? "a source of unknown size (a stream) cannot give it; copy the stream to a "
                                + "file first" : "it is written from its start and cannot be resumed")));
            }
            return source.extents(0, size)
                    .collectList()
                    .flatMapMany(list -> plan.get().plan(Collections.unmodifiableList(list))
                            .onErrorMap(t -> ImageIoException.wrap("plan", sink.endpoint(), 0, size, t))
                            .thenMany(Flux.fromIterable(list)));
        }

        private Mono<Void> checkCovered() {
            if (!streaming && nextExpected != size) {
                return Mono.error(new IllegalStateException("source " + source.endpoint()
                        + " returned extents that end at " + nextExpected + ", before its size " + size));
            }
            return Mono.empty();
        }

        /** Checks that extents are contiguous and hands each to the planner (see {@link RequestPlanner}). */
        private List<Request> split(Extent e) {
            if (e.start() != nextExpected) {
                throw new IllegalStateException("source " + source.endpoint() + " returned an extent at "
                        + e.start() + " where " + nextExpected + " was expected");
            }
            nextExpected = e.end();
            long unit = offload != null && !offloadDeclined
                    ? requestSize * Math.max(1, OFFLOAD_REQUEST_SIZE / requestSize) : requestSize;
            return planner.next(e, unit);
        }

        private Mono<Done> perform(Request r) {
            return switch (r.kind()) {
                case SKIP -> skip(r.offset(), r.length()).doOnSuccess(v -> observeZero(r.offset(), r.length()))
                        .thenReturn(new Done(0, 0, r.length()));
                case ZERO -> zero(r.offset(), r.length()).doOnSuccess(v -> observeZero(r.offset(), r.length()))
                        .thenReturn(new Done(0, r.length(), 0));
                case DATA -> r.gathered() ? copyGathered(r) : offload == null || offloadDeclined ? copyInPieces(r)
                        : offload(r.offset(), r.length()).flatMap(done -> done ? Mono.just(new Done(r.length(), 0, 0))
                                : copyInPieces(r));
            };
        }

        /** Copies a data request through the buffers, in pieces of the request size if it is larger. */
        private Mono<Done> copyInPieces(Request r) {
            if (r.length() <= requestSize) {
                return copyThroughBuffer(r);
            }
            List<Request> pieces = new ArrayList<>();
            for (long off = r.offset(); off < r.offset() + r.length(); off += requestSize) {
                pieces.add(new Request(Kind.DATA, off, Math.min(requestSize, r.offset() + r.length() - off)));
            }
            return Flux.fromIterable(pieces)
                    .concatMap(this::copyThroughBuffer)
                    .reduce((a, b) -> new Done(a.data + b.data, a.zeroed + b.zeroed, a.skipped + b.skipped));
        }

        private Mono<Done> copyThroughBuffer(Request r) {
            return Mono.usingWhen(pool.acquire(),
                    buffer -> copyData(r.offset(), buffer.slice(0, (int) r.length())),
                    this::release, (b, err) -> release(b), this::release);
        }

        /**
         * Copies a request gathered from several small extents through one buffer: the source reads
         * its data pieces, then each piece goes to the sink as it would have alone (data written and
         * scanned for zeros, zeros zeroed or skipped, holes skipped).
         */
        private Mono<Done> copyGathered(Request r) {
            List<Extent> data = new ArrayList<>(r.pieces().size() / 2 + 1);
            long dataBytes = 0;
            for (Extent p : r.pieces()) {
                if (p.isData()) {
                    data.add(p);
                    dataBytes += p.length();
                }
            }
            long readBytes = dataBytes;
            return Mono.usingWhen(pool.acquire(),
                    buffer -> metrics.timeRead(() -> source.readPieces(r.offset(), buffer.slice(0, (int) r.length()), data))
                            .onErrorMap(t -> ImageIoException.wrap("read", source.endpoint(), r.offset(), r.length(), t))
                            .then(Mono.defer(() -> {
                                metrics.read.increment(readBytes);
                                synchronized (this) {
                                    read += readBytes;
                                }
                                return writeGathered(r, buffer);
                            })),
                    this::release, (b, err) -> release(b), this::release);
        }

        /**
         * The pieces of a gathered request, as they would have gone alone: data scanned for zeros,
         * zeros zeroed or skipped, holes skipped; but the data runs of all pieces go to the sink in
         * one {@link ImageSink#writePieces} call. One write per piece cost a local file written from
         * an NBD connection a thread hand-off each: 393,216 for nbdkit's sparse-random
         * runlength=1000 (perf/README.md, "Fragmented images").
         *
         * <p>Nothing here is made per piece that need not be: the pieces are scanned within the one
         * segment of the buffer, and a skip the sink finished on the spot (a random-access target's
         * skip does nothing) is counted at once instead of becoming a {@code Mono} to merge. Those
         * per-piece objects were a third of what that copy allocated, and 64 requests of 128 pieces
         * waiting for their writes kept enough of them alive at each young collection to promote
         * them: the heap then grew to its limit (peak RSS 199 MiB; perf/README.md, "Memory").
         */
        private Mono<Done> writeGathered(Request r, ByteBuffer buffer) {
            MemorySegment segment = MemorySegment.ofBuffer(buffer);
            List<Extent> dataRuns = new ArrayList<>(r.pieces().size());
            List<Mono<Done>> later = new ArrayList<>(1);
            long dataBytes = 0;
            long skippedNow = 0;
            for (Extent p : r.pieces()) {
                if (!p.isData()) {
                    skippedNow += writeGap(p, later);
                    continue;
                }
                long at = p.start() - r.offset();
                if (!options.detectZeroes()) {
                    observeData(p.start(), buffer, at, (int) p.length());
                    dataRuns.add(p);
                    dataBytes += p.length();
                    continue;
                }
                ZeroScan scan = new ZeroScan(p, at, buffer, dataRuns, later);
                ZeroDetector.scan(segment, at, (int) p.length(), scan);
                dataBytes += scan.data;
                skippedNow += scan.skipped;
            }
            Done now = new Done(0, 0, skippedNow);
            List<Mono<Done>> all = later;
            if (!dataRuns.isEmpty()) {
                // the write first: a sequential sink (a sparse stream) then takes the skips after it in order
                Done written = new Done(dataBytes, 0, 0);
                all = new ArrayList<>(later.size() + 1);
                all.add(metrics.timeWrite(() -> sink.writePieces(r.offset(), buffer, dataRuns))
                        .onErrorMap(t -> ImageIoException.wrap("write", sink.endpoint(), r.offset(), r.length(), t))
                        .thenReturn(written));
                all.addAll(later);
            }
            return switch (all.size()) {
                case 0 -> Mono.just(now);
                case 1 -> all.get(0).map(now::plus);
                default -> Flux.merge(all).reduce(now, Done::plus);
            };
        }

        /** The runs of one data piece of a gathered request: data to write, zero blocks as gaps. */
        private final class ZeroScan implements ZeroDetector.RunConsumer {
            private final Extent piece;
            private final long at;
            private final ByteBuffer buffer;
            private final List<Extent> dataRuns;
            private final List<Mono<Done>> later;
            long data;
            long skipped;

            ZeroScan(Extent piece, long at, ByteBuffer buffer, List<Extent> dataRuns, List<Mono<Done>> later) {
                this.piece = piece;
                this.at = at;
                this.buffer = buffer;
                this.dataRuns = dataRuns;
                this.later = later;
            }

            @Override
            public void run(int offset, int length, boolean zero) {
                if (zero) {
                    skipped += writeGap(Extent.zero(piece.start() + offset, length), later);
                } else {
                    observeData(piece.start() + offset, buffer, at + offset, length);
                    dataRuns.add(offset == 0 && length == piece.length() ? piece
                            : Extent.data(piece.start() + offset, length));
                    data += length;
                }
            }
        }

        /**
         * A zero or hole piece of a gathered request: zero requests where the target needs them, else a
         * skip. What must still run goes to {@code later}; a skip the sink finished on the spot is
         * counted here: the bytes it skipped are returned (0 otherwise).
         */
        private long writeGap(Extent p, List<Mono<Done>> later) {
            observeZero(p.start(), p.length());
            if (p.zero() && !skipZeroes) {
                List<Mono<Void>> zeros = new ArrayList<>(1);
                for (long off = p.start(); off < p.end(); off += caps.maxZeroSize()) {
                    zeros.add(zero(off, Math.min(caps.maxZeroSize(), p.end() - off)));
                }
                later.add(Mono.when(zeros).thenReturn(new Done(0, p.length(), 0)));
                return 0;
            }
            Mono<Void> skip = sink.skip(p.start(), p.length());
            if (skip instanceof Fuseable.ScalarCallable<?> done) {
                // Mono.empty() or Mono.error(...): finished already, so nothing to subscribe to
                try {
                    done.call();
                    return p.length();
                } catch (Throwable t) {
                    later.add(Mono.error(ImageIoException.wrap("skip", sink.endpoint(), p.start(), p.length(),
                            Exceptions.unwrap(t))));
                    return 0;
                }
            }
            later.add(skip.onErrorMap(t -> ImageIoException.wrap("skip", sink.endpoint(), p.start(), p.length(), t))
                    .thenReturn(new Done(0, 0, p.length())));
            return 0;
        }

        /**
         * Offers a data range to the sink's offloaded copy; true if it copied it. The range counts as
         * read and written data (the kernel read and wrote it), and as offloaded.
         */
        private Mono<Boolean> offload(long offset, long length) {
            return metrics.timeOffload(() -> offload.copyFrom(source, offset, length))
                    .onErrorMap(t -> ImageIoException.wrap("copy offload", sink.endpoint(), offset, length, t))
                    .doOnNext(done -> {
                        if (!done) {
                            offloadDeclined = true;
                        } else {
                            metrics.read.increment(length);
                            metrics.offloaded.increment(length);
                            synchronized (this) {
                                read += length;
                                offloaded += length;
                            }
                        }
                    });
        }

        private Mono<Void> release(ByteBuffer b) {
            return Mono.fromRunnable(() -> pool.release(b));
        }

        private Mono<Done> copyData(long offset, ByteBuffer buffer) {
            int length = buffer.remaining();
            return metrics.timeRead(() -> source.read(offset, buffer))
                    .onErrorMap(t -> ImageIoException.wrap("read", source.endpoint(), offset, length, t))
                    .then(Mono.defer(() -> {
                        buffer.flip();
                        metrics.read.increment(length);
                        synchronized (this) {
                            read += length;
                        }
                        return writeData(offset, buffer);
                    }));
        }

        /** Writes the buffer, turning its zero blocks into zero requests when detection is on. */
        private Mono<Done> writeData(long offset, ByteBuffer buffer) {
            int length = buffer.remaining();
            if (!options.detectZeroes()) {
                observeData(offset, buffer);
                return write(offset, buffer).thenReturn(new Done(length, 0, 0));
            }
            List<Request> runs = new ArrayList<>(2);
            ZeroDetector.scan(buffer, (at, n, zero) -> runs.add(new Request(
                    zero ? (skipZeroes ? Kind.SKIP : Kind.ZERO) : Kind.DATA, at, n)));
            if (runs.size() == 1 && runs.get(0).kind() == Kind.DATA) {
                observeData(offset, buffer);
                return write(offset, buffer).thenReturn(new Done(length, 0, 0));
            }
            for (Request run : runs) {
                if (run.kind() == Kind.DATA) {
                    observeData(offset + run.offset(), buffer.slice((int) run.offset(), (int) run.length()));
                } else {
                    observeZero(offset + run.offset(), run.length());
                }
            }
            return Flux.fromIterable(runs)
                    .flatMap(run -> switch (run.kind()) {
                        case DATA -> write(offset + run.offset(), buffer.slice((int) run.offset(), (int) run.length()))
                                .thenReturn(new Done(run.length(), 0, 0));
                        case ZERO -> zero(offset + run.offset(), run.length()).thenReturn(new Done(0, run.length(), 0));
                        case SKIP -> skip(offset + run.offset(), run.length()).thenReturn(new Done(0, 0, run.length()));
                    })
                    .reduce((a, b) -> new Done(a.data + b.data, a.zeroed + b.zeroed, a.skipped + b.skipped));
        }

        private Mono<Void> write(long offset, ByteBuffer buffer) {
            int length = buffer.remaining();
            return metrics.timeWrite(() -> sink.write(offset, buffer))
                    .onErrorMap(t -> ImageIoException.wrap("write", sink.endpoint(), offset, length, t));
        }

        private Mono<Void> zero(long offset, long length) {
            return metrics.timeZero(() -> sink.zero(offset, length))
                    .onErrorMap(t -> ImageIoException.wrap("zero", sink.endpoint(), offset, length, t));
        }

        /** Shows data to the observer before it is written (the buffer is intact until then). */
        private void observeData(long offset, ByteBuffer data) {
            if (observer != null) {
                observer.data(offset, data.asReadOnlyBuffer());
            }
        }

        /** {@link #observeData(long, ByteBuffer)} of {@code length} bytes at {@code at} in {@code buffer}. */
        private void observeData(long offset, ByteBuffer buffer, long at, int length) {
            if (observer != null) {
                observer.data(offset, buffer.slice((int) at, length).asReadOnlyBuffer());
            }
        }

        private void observeZero(long offset, long length) {
            if (observer != null) {
                observer.zero(offset, length);
            }
        }

        private Mono<Void> skip(long offset, long length) {
            return sink.skip(offset, length)
                    .onErrorMap(t -> ImageIoException.wrap("skip", sink.endpoint(), offset, length, t));
        }

        private void account(Completed c) {
            Done d = c.done;
            completed.put(c.request.offset(), c.request.offset() + c.request.length());
            for (Long end = completed.remove(checkpoint); end != null; end = completed.remove(checkpoint)) {
                checkpoint = end;
            }
            data += d.data;
            zeroed += d.zeroed;
            skipped += d.skipped;
            metrics.written.increment(d.data);
            metrics.zeroed.increment(d.zeroed);
            metrics.skipped.increment(d.skipped);
            onProgress.accept(progress());
        }

        private CopyProgress progress() {
            return new CopyProgress(size, resumeAt, data, zeroed, skipped, checkpoint,
                    Duration.ofNanos(System.nanoTime() - started));
        }

        /** Progress at the end: a stream's size is known now. */
        private CopyProgress finalProgress() {
            return new CopyProgress(streaming ? nextExpected : size, resumeAt, data, zeroed, skipped, checkpoint,
                    Duration.ofNanos(System.nanoTime() - started));
        }

        private CopyResult finish() {
            CopyProgress last = finalProgress();
            onProgress.accept(last);
            long readBytes;
            long offloadedBytes;
            synchronized (this) {
                readBytes = read;
                offloadedBytes = offloaded;
            }
            metrics.duration.record(last.elapsed().toNanos(), TimeUnit.NANOSECONDS);
            return new CopyResult(last.size(), resumeAt, data, zeroed, skipped, readBytes,
                    (long) pool.peakOutstanding() * requestSize, last.elapsed(), offloadedBytes);
        }
    }

    /**
     * The smallest request size the two ends prefer, else {@link CopyOptions#DEFAULT_REQUEST_SIZE};
     * never more than the bytes allowed in flight.
     */
    private int automaticRequestSize() {
        int size = (int) Math.min(CopyOptions.DEFAULT_REQUEST_SIZE, options.maxInFlight());
        for (int preferred : new int[] {source.preferredRequestSize(), sink.preferredRequestSize()}) {
            if (preferred > 0) {
                size = Math.min(size, preferred);
            }
        }
        return size;
    }

    /** The endpoint kind for metric tags: the scheme of its address ({@code file}, {@code nbd}, ...). */
    static String kind(String endpoint) {
        int colon = endpoint.indexOf(':');
        return colon > 0 ? endpoint.substring(0, colon) : "file";
    }
}
