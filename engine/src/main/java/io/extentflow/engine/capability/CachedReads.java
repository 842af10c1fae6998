package io.extentflow.engine.capability;

import java.nio.ByteBuffer;

/**
 * Reads that never wait for the disk: the source copies what of a range is already in memory (for a
 * local file, its page cache) and says how much. A caller on a thread that must not block, such as
 * the NBD server's event loop, then serves cached data itself and hands only the rest to the file
 * I/O scheduler. Each hand-off is two thread switches (there and back) per request, which cost the
 * server more than the copying itself when the data is cached (docs/architecture.md, "The NBD
 * server").
 *
 * <p>Local files implement it with {@code preadv2(RWF_NOWAIT)} ({@link io.extentflow.engine.io.OpenFile#readCached}):
 * a raw file for all its bytes, a qcow2 chain for its plain, zero and unallocated clusters whose
 * metadata is in memory. Sources without it (the default of
 * {@link io.extentflow.engine.ImageSource#capability(Class)}) are read the ordinary way.
 */
@FunctionalInterface
public interface CachedReads extends SourceCapability {

    /**
     * Copies the source's bytes from {@code offset} into {@code target}, from its position, as far as
     * they are in memory, and advances the position by as many. Returns that count:
     * {@code target.remaining()} when all were cached, fewer (maybe 0) when the rest was not. Never
     * waits for I/O, so any thread may call it. A failure or a range outside the source reads as 0:
     * the caller reads the rest the ordinary way, which reports the error.
     */
    int readCached(long offset, ByteBuffer target);
}
