package io.extentflow.engine.capability;

import io.extentflow.engine.ImageSource;
import reactor.core.publisher.Mono;

/**
 * A sink that can copy a data range from a source itself, without the copy's buffers: a local file
 * target that lets the kernel copy from a local file source ({@code copy_file_range}, which shares
 * blocks where the file system can, as {@code qemu-img convert -C} does). The copy offers every data
 * request here first and reads and writes the range itself only when the answer is {@code false}.
 *
 * <p>The range is not scanned for zeros: what the source holds is copied as it is.
 */
public interface OffloadedCopy extends SinkCapability {

    /**
     * Whether this sink may be able to copy from {@code source} at all (e.g. it is a local file at
     * the same offsets), asked once before the copy starts, without blocking. When false the copy
     * never offers it a request. True does not promise success: {@link #copyFrom} may still decline.
     */
    boolean accepts(ImageSource source);

    /**
     * Copies {@code [offset, offset + length)} of {@code source} to the same range of the sink, off
     * the caller's thread. Emits {@code true} once the range is written as a {@code write} would
     * have written it, {@code false} (having written nothing that a normal write of the range would
     * not replace) when this source or this file system cannot be copied this way, so the caller
     * copies the range itself; an error when the copy failed for another reason.
     */
    Mono<Boolean> copyFrom(ImageSource source, long offset, long length);
}
