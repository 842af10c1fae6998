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
import java.util.Optional;
import reactor.core.publisher.Flux;

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
 */
public record IncrementalSource(ImageSource delegate, DirtyExtents dirty) implements ForwardingImageSource {

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
     * Dirty runs whose allocation is asked for at once: the answers overlap (an NBD source's round
     * trips), while the output stays in order.
     */
    private static final int RUNS_IN_FLIGHT = 8;

    /**
     * The bitmap first, then the allocation of its dirty runs only: a clean range needs no more than
     * the bitmap says (it is skipped whatever it holds), so a large, mostly clean image costs the
     * bitmap's walk and one allocation query per dirty run, not an allocation walk of the whole image.
     */
    @Override
    public Flux<Extent> extents(long start, long length) {
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
                .flatMapSequential(run -> (run.flags() & NbdProtocol.STATE_DIRTY) == 0
                        ? Flux.just(new Extent(run.offset(), run.length(), false, true))
                        : delegate.extents(run.offset(), run.length()).map(IncrementalSource::changed),
                        RUNS_IN_FLIGHT, 1);
        return Runs.merge(out);
    }

    /** A dirty range as the source's allocation describes it: zeros become a zero request, the rest data. */
    private static Extent changed(Extent e) {
        return e.zero() ? Extent.zero(e.start(), e.length()) : Extent.data(e.start(), e.length());
    }

    /** Offers the dirty bitmap only: the other views describe the whole image, not the increment. */
    @Override
    public <C extends SourceCapability> Optional<C> capability(Class<C> type) {
        return type == DirtyExtents.class ? Optional.of(type.cast(dirty)) : Optional.empty();
    }
}
