package io.extentflow.engine;

import io.extentflow.engine.capability.SourceCapability;
import io.extentflow.engine.io.BlockingIo;
import java.nio.ByteBuffer;
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
