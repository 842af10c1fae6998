package io.extentflow.engine.copy;

import java.time.Duration;

/**
 * How far a copy has come. Bytes count completed work only: {@link #done()} reaches {@link #size()}
 * exactly when every request has completed.
 *
 * @param size         image size in bytes, or -1 while a streamed source has not told its size
 * @param dataBytes    bytes read and written as data
 * @param zeroedBytes  bytes turned into zero requests on the target
 * @param skippedBytes bytes that needed no request (zeros on a target known to be zero, or holes
 *                     left to a backing chain)
 * @param elapsed      time since the copy started
 */
public record CopyProgress(long size, long dataBytes, long zeroedBytes, long skippedBytes, Duration elapsed) {

    /** Bytes done of any kind. */
    public long done() {
        return dataBytes + zeroedBytes + skippedBytes;
    }

    /** Completed fraction in [0, 1]; 1 for an empty image, 0 while the size is unknown. */
    public double fraction() {
        if (size < 0) {
            return 0.0;
        }
        return size == 0 ? 1.0 : (double) done() / size;
    }
}
