package io.extentflow.engine;

import io.extentflow.engine.capability.SinkCapability;
import java.nio.ByteBuffer;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * An {@link ImageSink} that passes every call to {@link #delegate()}: implement it (a record does
 * nicely) and override only what the wrapper changes.
 */
public interface ForwardingImageSink extends ImageSink {

    /** The sink every call goes to. */
    ImageSink delegate();

    @Override
    default String endpoint() {
        return delegate().endpoint();
    }

    @Override
    default long size() {
        return delegate().size();
    }

    @Override
    default SinkCapabilities capabilities() {
        return delegate().capabilities();
    }

    /** The delegate's: a wrapper that moves or reshapes ranges must override this. */
    @Override
    default <C extends SinkCapability> Optional<C> sinkCapability(Class<C> type) {
        return delegate().sinkCapability(type);
    }

    @Override
    default Mono<Void> write(long offset, ByteBuffer data) {
        return delegate().write(offset, data);
    }

    @Override
    default Mono<Void> zero(long offset, long length) {
        return delegate().zero(offset, length);
    }

    @Override
    default Mono<Void> skip(long offset, long length) {
        return delegate().skip(offset, length);
    }

    @Override
    default Mono<Void> finish() {
        return delegate().finish();
    }

    @Override
    default Mono<Void> flush() {
        return delegate().flush();
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
