package io.extentflow.engine;

import java.nio.ByteBuffer;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An {@link ImageSource} that passes every call to {@link #delegate()}: implement it (a record
 * does nicely) and override only what the wrapper changes.
 *
 * <pre>{@code
 * record Counting(ImageSource delegate, LongAdder bytes) implements ForwardingImageSource {
 *     public Mono<Void> read(long offset, ByteBuffer target) {
 *         bytes.add(target.remaining());
 *         return delegate.read(offset, target);
 *     }
 * }
 * }</pre>
 */
public interface ForwardingImageSource extends ImageSource {

    /** The source every call goes to. */
    ImageSource delegate();

    @Override
    default String endpoint() {
        return delegate().endpoint();
    }

    @Override
    default String format() {
        return delegate().format();
    }

    @Override
    default long size() {
        return delegate().size();
    }

    @Override
    default Flux<Extent> extents(long start, long length) {
        return delegate().extents(start, length);
    }

    @Override
    default Mono<Void> read(long offset, ByteBuffer target) {
        return delegate().read(offset, target);
    }

    // readPieces is not forwarded: a wrapper that changes what read gives (a checksum, a fault) must
    // see every piece through its own read; one that does not may forward it itself.

    /** The delegate's: a wrapper that forwards extents and reads gives them in the same order. */
    @Override
    default boolean sequential() {
        return delegate().sequential();
    }

    /** The delegate's: a wrapper that forwards reads serves the same request size best. */
    @Override
    default int preferredRequestSize() {
        return delegate().preferredRequestSize();
    }

    @Override
    default Map<String, Object> details() {
        return delegate().details();
    }

    @Override
    default void close() {
        delegate().close();
    }

    @Override
    default Mono<Void> closeGracefully() {
        return delegate().closeGracefully();
    }
}
