package io.extentflow.engine.copy;

import java.nio.ByteBuffer;

/**
 * Sees the image's content as a copy moves it: every byte range of the copied range exactly once,
 * either as data (the bytes written) or as zeros (zero requests, skipped zeros, zero blocks found
 * in data, and holes). Calls come from I/O threads, concurrently and in any order; an observer
 * must be thread-safe and quick, and must not keep the buffer after the call returns.
 */
public interface CopyObserver {

    /** {@code bytes} (position to limit, read-only) are the image's content at {@code offset}. */
    void data(long offset, ByteBuffer bytes);

    /** {@code [offset, offset + length)} reads as zeros (or, for holes left to a backing chain, is left out). */
    void zero(long offset, long length);
}
