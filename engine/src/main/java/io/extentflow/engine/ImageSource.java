package io.extentflow.engine;

import io.extentflow.engine.capability.SourceCapability;
import io.extentflow.engine.io.BlockingIo;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where image bytes come from: a raw or qcow2 file, an NBD export, an imageio HTTP ticket.
 *
 * <p>Every method is non-blocking: implementations move blocking system calls to
 * {@link io.extentflow.engine.io.BlockingIo#scheduler()} and network I/O to Reactor Netty.
 */
public interface ImageSource extends AutoCloseable {

    /** A short address of the endpoint for messages and metric tags, e.g. {@code file:/var/img/a.raw}. */
    String endpoint();

    /** The format name as {@code qemu-img info} spells it: {@code raw}, {@code qcow2}, ... */
    String format();

    /**
     * Virtual size in bytes, or {@link #UNKNOWN_SIZE} for a sequential stream (such as a sparse
     * stream on standard input) that tells its size only at its end. Such a source ignores the
     * length given to {@link #extents}, and must be read in ascending order.
     */
    long size();

    /** The size of a stream that tells it only at its end. */
    long UNKNOWN_SIZE = -1;

    /**
     * The extents of {@code [start, start + length)}: ascending, contiguous, covering exactly that
     * range (the first and last clipped to it), adjacent extents with equal flags merged. Fetched
     * lazily in windows as the subscriber requests them.
     */
    Flux<Extent> extents(long start, long length);

    /**
     * Reads exactly {@code target.remaining()} bytes at {@code offset} into {@code target}, advancing
     * its position to its limit. The buffer is borrowed: the source must not touch it after the
     * returned {@code Mono} terminates.
     */
    Mono<Void> read(long offset, ByteBuffer target);

    /**
     * Reads the data extents {@code pieces} of the range {@code [offset, offset + target.remaining())}
     * into {@code target}, each at its distance from {@code offset}, and advances the position of
     * {@code target} to its limit. The pieces are ascending and lie inside the range; what lies
     * between them reads as zeros or is left to a backing chain, and the copy never uses those bytes
     * of {@code target}: a source may leave them as they were or fill them with what it reads there.
     *
     * <p>The copy asks this for a run of small extents gathered into one request (a fragmented
     * image: many small data extents with small holes between them), so that one buffer and one
     * pass through the pipeline serve them all. The default reads each piece with
     * {@link #read(long, ByteBuffer)}, one after the other: right for every source, and what a local
     * file wants (reading its holes would fill the page cache with zero pages). A source for which a
     * read across zeros costs no more than the round trips it saves (NBD, whose servers answer the
     * zeros of a read with hole chunks) reads the whole range at once instead.
     */
    default Mono<Void> readPieces(long offset, ByteBuffer target, List<Extent> pieces) {
        int base = target.position();
        return Flux.fromIterable(pieces)
                .concatMap(p -> read(p.start(), target.slice(base + (int) (p.start() - offset), (int) p.length())))
                .then(Mono.fromRunnable(() -> target.position(target.limit())));
    }

    /**
     * True if this source gives its next extent only once the data of the extents before it has
     * been read: a stream read front to back, whose next frame header follows the previous payload.
     * The copy then never holds an extent back to gather it with the ones after it. By default, a
     * source of {@link #UNKNOWN_SIZE}.
     */
    default boolean sequential() {
        return size() == UNKNOWN_SIZE;
    }

    /**
     * The data request size this source serves best, or 0 for no preference (the default). A copy
     * whose caller set no request size uses the smallest preference of its two ends.
     */
    default int preferredRequestSize() {
        return 0;
    }

    /**
     * Format details for {@code extentflow info} (e.g. qcow2 version, cluster size, backing chain),
     * in the order they should be shown. Empty by default.
     */
    default Map<String, Object> details() {
        return Map.of();
    }

    /**
     * What this source can report beyond its extents, asked for by the capability's interface, e.g.
     * {@code source.capability(HostOffsets.class)}; empty when it cannot (the default). Callers ask
     * here instead of testing the source's class. A wrapper (such as a {@link ForwardingImageSource})
     * offers nothing unless it overrides this, since it may change what the views would report.
     */
    default <C extends SourceCapability> Optional<C> capability(Class<C> type) {
        return Optional.empty();
    }

    /** Releases files and connections. Never blocks for long; safe to call twice. */
    @Override
    void close();

    /**
     * Closes like {@link #close()}, off the caller's thread, and completes once the files and
     * connections are released (a network endpoint's sockets closed, not only asked to close). The
     * default runs {@link #close()} on {@link BlockingIo}'s scheduler.
     */
    default Mono<Void> closeGracefully() {
        return BlockingIo.run(this::close);
    }
}
