package io.extentflow.engine.copy;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.SinkCapabilities;
import java.nio.ByteBuffer;
import reactor.core.publisher.Mono;

/**
 * A target that keeps nothing, as nbdcopy's {@code null:}: a copy into it reads the source at copy
 * speed and discards the bytes. With a {@link CopyObserver} it is how a checksum is computed (the
 * observer sees every byte; the copy brings its concurrency and its memory bound), and on its own
 * it measures how fast a source reads.
 *
 * <p>It is "known zero", so zero extents cost no request, and it takes writes of any size. Ranges
 * are still checked against the size, so a source that reports extents past its end fails here as it
 * would on a real target.
 */
public final class NullSink implements ImageSink {

    /** The address that opens one ({@code extentflow copy IMAGE null:}). */
    public static final String ADDRESS = "null:";

    private final long size;

    /** A null target for an image of {@code size} bytes, or of any size for {@link ImageSource#UNKNOWN_SIZE} (a stream). */
    public NullSink(long size) {
        if (size < 0 && size != ImageSource.UNKNOWN_SIZE) {
            throw new IllegalArgumentException("negative image size " + size);
        }
        this.size = size;
    }

    @Override
    public String endpoint() {
        return ADDRESS;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public SinkCapabilities capabilities() {
        return new SinkCapabilities(true, Integer.MAX_VALUE, Long.MAX_VALUE, 64);
    }

    @Override
    public Mono<Void> write(long offset, ByteBuffer data) {
        return check("write", offset, data.remaining());
    }

    @Override
    public Mono<Void> zero(long offset, long length) {
        return check("zero", offset, length);
    }

    @Override
    public Mono<Void> skip(long offset, long length) {
        return check("skip", offset, length);
    }

    @Override
    public Mono<Void> flush() {
        return Mono.empty();
    }

    @Override
    public void close() {
        // nothing held
    }

    @Override
    public Mono<Void> closeGracefully() {
        return Mono.empty();
    }

    private Mono<Void> check(String op, long offset, long length) {
        // written so that it cannot overflow: length and offset are each within the size first
        long limit = size == ImageSource.UNKNOWN_SIZE ? Long.MAX_VALUE : size;
        if (offset < 0 || length < 0 || length > limit || offset > limit - length) {
            return Mono.error(ImageIoException.outside(op, ADDRESS, offset, length, size));
        }
        return Mono.empty();
    }
}
