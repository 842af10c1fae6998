package io.extentflow.engine.dirty;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ForwardingImageSource;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.capability.SourceCapability;
import io.extentflow.engine.extent.Runs;
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

    @Override
    public Flux<Extent> extents(long start, long length) {
        // clean ranges that differ only in zero become one skip
        return Runs.merge(DirtyMerge.extents(delegate, dirty, start, length).map(IncrementalSource::toExtent));
    }

    /** What a copy does with a dirty extent: write it, zero it, or leave the target alone. */
    static Extent toExtent(DirtyExtent d) {
        if (!d.dirty()) {
            return new Extent(d.start(), d.length(), false, true);
        }
        return d.zero() ? Extent.zero(d.start(), d.length()) : Extent.data(d.start(), d.length());
    }

    /** Offers the dirty bitmap only: the other views describe the whole image, not the increment. */
    @Override
    public <C extends SourceCapability> Optional<C> capability(Class<C> type) {
        return type == DirtyExtents.class ? Optional.of(type.cast(dirty)) : Optional.empty();
    }
}
