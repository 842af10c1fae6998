package io.extentflow.engine;

import io.extentflow.engine.capability.SinkCapability;
import io.extentflow.engine.io.BlockingIo;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where image bytes go: a raw file or block device, an NBD export, an imageio HTTP ticket.
 *
 * <p>Writes and zero requests may be issued concurrently and complete in any order.
 * Every method is non-blocking.
 */
public interface ImageSink extends AutoCloseable {

    /** A short address of the endpoint for messages and metric tags. */
    String endpoint();

    /** Size of the target in bytes; equals the source size. */
    long size();

    /** What the target can do and what it already holds. */
    SinkCapabilities capabilities();

    /**
     * What this sink can do beyond writes and zero requests, or asks of the copy beyond its requests, by
     * the capability's interface, e.g. {@code sink.sinkCapability(OffloadedCopy.class)} or
     * {@code sink.sinkCapability(ExtentPlan.class)}; empty when it has none (the default). Named apart
     * from {@link ImageSource#capability(Class)}, so one class can be both a source and a sink.
     */
    default <C extends SinkCapability> Optional<C> sinkCapability(Class<C> type) {
        return Optional.empty();
    }

    /**
     * Writes {@code data.remaining()} bytes at {@code offset}. The buffer is borrowed: the sink must
     * be done with it (copied or written) when the returned {@code Mono} completes.
     */
    Mono<Void> write(long offset, ByteBuffer data);

    /**
     * Writes the data {@code pieces}, ascending and apart, each from its distance to {@code offset}
     * in {@code data} (counted from the buffer's position); the bytes of {@code data} between them
     * are not written. The buffer is borrowed as in {@link #write}.
     *
     * <p>The copy writes the data of a request gathered from many small extents (a fragmented image,
     * see {@link ImageSource#readPieces}) with one call. The default writes each piece with
     * {@link #write}, all at once; a sink whose writes each cost a hand-off to another thread (a
     * local file written from an NBD connection's event loop) writes them all in one.
     */
    default Mono<Void> writePieces(long offset, ByteBuffer data, List<Extent> pieces) {
        int base = data.position();
        return Flux.fromIterable(pieces)
                .flatMap(p -> write(p.start(), data.slice(base + (int) (p.start() - offset), (int) p.length())))
                .then();
    }

    /**
     * Makes {@code [offset, offset + length)} read as zeros, cheaply when the target allows it
     * (punch a hole, NBD WRITE_ZEROES, imageio PATCH zero); never by TRIM.
     */
    Mono<Void> zero(long offset, long length);

    /**
     * Tells the sink that the copy leaves {@code [offset, offset + length)} untouched: zeros on a
     * target known to be zero, or a hole left to the target's backing chain. Random-access sinks
     * need do nothing (the default); sequential sinks such as a sparse stream use it to account for
     * every byte in order.
     */
    default Mono<Void> skip(long offset, long length) {
        return Mono.empty();
    }

    /**
     * The write size this sink takes best, or 0 for no preference (the default). A copy whose
     * caller set no request size uses the smallest preference of its two ends.
     */
    default int preferredRequestSize() {
        return 0;
    }

    /**
     * Ends the image: the copy calls it once, after every request has completed and before any
     * flush, whether or not it flushes. A sink whose requests each complete only when the target has
     * them needs nothing here (the default). A sink that delivers the image as one transfer (a sparse
     * stream) writes its end, and completes only once the receiving side confirmed that it has the
     * whole image: until then, a copy must not count as done.
     */
    default Mono<Void> finish() {
        return Mono.empty();
    }

    /** Makes everything written so far durable. */
    Mono<Void> flush();

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
