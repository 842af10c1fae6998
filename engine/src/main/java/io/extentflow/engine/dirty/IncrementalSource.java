package io.extentflow.engine.dirty;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ForwardingImageSource;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.capability.SourceCapability;
import io.extentflow.engine.extent.Runs;
import io.extentflow.engine.nbd.NbdExtent;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A source seen through its dirty bitmap, for an incremental copy: its extents say to copy only
 * what changed. The copy operator needs no incremental mode of its own, because the three cases are
 * kinds of {@link Extent} it already handles:
 * <ul>
 *   <li>dirty data: a data extent, read and written;</li>
 *   <li>dirty and reading as zeros: an allocated zero extent, a zero request (a qcow2 overlay gets a
 *       zero cluster, which hides the backing file's old data);</li>
 *   <li>clean: a hole without {@code zero}, which a copy leaves untouched (a random-access target
 *       keeps its bytes, a qcow2 overlay leaves it unallocated; a sparse stream, whose skipped
 *       ranges read as zeros, cannot carry an increment).</li>
 * </ul>
 * Reads pass straight to the source.
 *
 * @param delegate the source
 * @param dirty    its dirty bitmap
 * @param span     bytes of image per allocation query ({@link #SPAN})
 */
public record IncrementalSource(ImageSource delegate, DirtyExtents dirty, long span) implements ForwardingImageSource {

    public IncrementalSource {
        if (span <= 0) {
            throw new IllegalArgumentException("span must be positive, got " + span);
        }
    }

    /** {@code delegate} seen through {@code dirty}, with allocation queries of {@link #SPAN}. */
    public IncrementalSource(ImageSource delegate, DirtyExtents dirty) {
        this(delegate, dirty, SPAN);
    }

    /**
     * {@code source} seen through its dirty bitmap; fails with a message naming the source when it
     * offers none ({@link DirtyExtents}).
     */
    public static IncrementalSource of(ImageSource source) {
        DirtyExtents dirty = source.capability(DirtyExtents.class).orElseThrow(() -> new IllegalArgumentException(
                source.endpoint() + " reports no dirty extents: an incremental copy needs a source opened with "
                        + "a dirty bitmap"));
        return new IncrementalSource(source, dirty);
    }

    /**
     * Bytes of image per allocation query: the dirty runs of one such aligned span are resolved with
     * one query from the first dirty byte to the last (an NBD source's round trip per span, not per
     * run), and its extents are held while the span is cut, so memory stays bounded as in
     * {@link DirtyMerge}.
     */
    static final long SPAN = 64L << 20;
    /** Spans resolved at once: their queries overlap, the output stays in order. */
    private static final int SPANS_IN_FLIGHT = 4;

    /**
     * The bitmap first, then the allocation of the spans holding dirty runs only: a clean range
     * needs no more than the bitmap says (it is skipped whatever it holds), so a large, mostly clean
     * image costs the bitmap's walk, not an allocation walk of the whole image.
     */
    @Override
    public Flux<Extent> extents(long start, long length) {
        return Flux.defer(() -> {
            long[] expected = {start};
            Flux<Extent> out = dirty.map(start, length)
                    .<NbdExtent>handle((run, sink) -> {
                        if (run.offset() != expected[0] || run.length() <= 0) {
                            sink.error(new ImageIoException("extents", delegate.endpoint(), start, length,
                                    "the dirty bitmap " + dirty.context() + " has a " + (run.offset() > expected[0]
                                            ? "gap" : "overlap") + " at " + expected[0], null));
                            return;
                        }
                        expected[0] = run.end();
                        sink.next(run);
                    })
                    .concatMapIterable(this::bySpan)
                    .bufferUntil(run -> run.end() % span == 0)
                    .flatMapSequential(this::resolve, SPANS_IN_FLIGHT, 1);
            return Runs.merge(out);
        });
    }

    /** The run cut at multiples of {@link #span}, so that every piece lies in one span. */
    private List<NbdExtent> bySpan(NbdExtent run) {
        List<NbdExtent> pieces = new ArrayList<>(1);
        for (long s = run.offset(); s < run.end(); ) {
            long next = Math.min(run.end(), (s / span + 1) * span);
            pieces.add(new NbdExtent(s, next - s, run.flags()));
            s = next;
        }
        return pieces;
    }

    /** The extents of one span's runs: clean ones skipped, dirty ones cut by the source's allocation. */
    private Flux<Extent> resolve(List<NbdExtent> runs) {
        long first = -1;
        long last = -1;
        for (NbdExtent r : runs) {
            if (dirty(r)) {
                first = first < 0 ? r.offset() : first;
                last = r.end();
            }
        }
        if (first < 0) {
            return Flux.fromIterable(runs).map(IncrementalSource::unchanged);
        }
        return delegate.extents(first, last - first).collectList().flatMapIterable(allocation -> {
            List<Extent> out = new ArrayList<>();
            int a = 0;
            for (NbdExtent r : runs) {
                if (!dirty(r)) {
                    out.add(unchanged(r));
                    continue;
                }
                while (a < allocation.size() && allocation.get(a).end() <= r.offset()) {
                    a++;
                }
                for (int k = a; k < allocation.size() && allocation.get(k).start() < r.end(); k++) {
                    out.add(changed(allocation.get(k).clip(r.offset(), r.end())));
                }
            }
            return out;
        });
    }

    private static boolean dirty(NbdExtent run) {
        return (run.flags() & NbdProtocol.STATE_DIRTY) != 0;
    }

    /** A clean range: a hole without zero, which a copy leaves untouched. */
    private static Extent unchanged(NbdExtent run) {
        return new Extent(run.offset(), run.length(), false, true);
    }

    /** A dirty range as the source's allocation describes it: zeros become a zero request, the rest data. */
    private static Extent changed(Extent e) {
        return e.zero() ? Extent.zero(e.start(), e.length()) : Extent.data(e.start(), e.length());
    }

    /**
     * The delegate's: this source chooses which extents are copied, never the bytes a read gives, so
     * a gathered request is read as the delegate reads it best (one NBD READ for the whole range).
     */
    @Override
    public Mono<Void> readPieces(long offset, ByteBuffer target, List<Extent> pieces) {
        return delegate.readPieces(offset, target, pieces);
    }

    /** Offers the dirty bitmap only: the other views describe the whole image, not the increment. */
    @Override
    public <C extends SourceCapability> Optional<C> capability(Class<C> type) {
        return type == DirtyExtents.class ? Optional.of(type.cast(dirty)) : Optional.empty();
    }
}
