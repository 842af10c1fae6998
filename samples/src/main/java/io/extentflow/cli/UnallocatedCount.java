package io.extentflow.cli;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ForwardingImageSource;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.SourceCapability;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A source that counts the bytes of its extents that it does not allocate and that do not read as
 * zeros: the holes of a {@code --top-layer-only} read, which fall through to a backing chain. A copy
 * counts them among its skipped bytes together with zeros it needed not write; the summary tells them
 * apart, so that a delta's unallocated ranges are not reported as zeros.
 *
 * <p>Only extents past the furthest one seen count, so a range listed twice counts once.
 */
final class UnallocatedCount implements ForwardingImageSource {

    private final ImageSource delegate;
    /** Bytes counted, and the end of the furthest extent seen; guarded by this. */
    private long bytes;
    private long seenTo;

    UnallocatedCount(ImageSource delegate) {
        this.delegate = delegate;
    }

    @Override
    public ImageSource delegate() {
        return delegate;
    }

    /** The unallocated bytes of the extents listed so far. */
    synchronized long bytes() {
        return bytes;
    }

    @Override
    public Flux<Extent> extents(long start, long length) {
        return delegate.extents(start, length).doOnNext(this::count);
    }

    private synchronized void count(Extent e) {
        if (e.hole() && !e.zero() && e.end() > seenTo) {
            bytes += e.end() - Math.max(e.start(), seenTo);
        }
        seenTo = Math.max(seenTo, e.end());
    }

    /**
     * The delegate's own gathered read: counting changes no byte. Not forwarded, a gathered request
     * fell back to one read per piece, one after the other: over NBD one READ round trip per 4 KiB
     * piece of nbdkit's sparse-random runlength=1000, on a file one file-thread task per piece
     * (perf/README.md, "Fragmented images").
     */
    @Override
    public Mono<Void> readPieces(long offset, ByteBuffer target, List<Extent> pieces) {
        return delegate.readPieces(offset, target, pieces);
    }

    // counting changes nothing the source reports: its views pass through

    @Override
    public <C extends SourceCapability> Optional<C> capability(Class<C> type) {
        return delegate.capability(type);
    }
}
