package io.extentflow.engine.capability;

/**
 * A sink that writes another way when the copy will not flush it: the caller asked for the fastest
 * return ({@code copy --no-flush}), not for durability. A file target then writes through the page
 * cache and returns with the data there, as {@code qemu-img convert} and {@code cp} do, instead of
 * waiting for the disk with direct I/O.
 *
 * <p>The copy calls {@link #willNotFlush()} once, before its first request, when its options say it
 * will not flush; a sink without this capability writes as always.
 */
public interface Unflushed extends SinkCapability {

    /** No flush will follow this copy's writes: write for the fastest return. */
    void willNotFlush();
}
