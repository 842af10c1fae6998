package io.extentflow.engine.copy;

import java.time.Duration;

/**
 * How far a copy has come. Bytes count completed work only: {@link #done()} reaches {@link #size()}
 * exactly when every request has completed.
 *
 * @param size         image size in bytes, or -1 while a streamed source has not told its size
 * @param resumed      bytes below the offset a resumed copy started at (done by an earlier run)
 * @param dataBytes    bytes read and written as data
 * @param zeroedBytes  bytes turned into zero requests on the target
 * @param skippedBytes bytes that needed no request (zeros on a target known to be zero, or holes
 *                     left to a backing chain)
 * @param checkpoint   every byte below this offset is done: a copy interrupted now can be resumed
 *                     there ({@link Copy#resumeAt}); requests complete out of order, so it trails
 *                     {@link #done()} by at most the requests in flight
 * @param elapsed      time since the copy started
 */
public record CopyProgress(long size, long resumed, long dataBytes, long zeroedBytes, long skippedBytes,
                           long checkpoint, Duration elapsed) {

    /** Bytes done of any kind, including those resumed from an earlier run. */
    public long done() {
        return resumed + dataBytes + zeroedBytes + skippedBytes;
    }

    /** Completed fraction in [0, 1]; 1 for an empty image, 0 while the size is unknown. */
    public double fraction() {
        if (size < 0) {
            return 0.0;
        }
        return size == 0 ? 1.0 : (double) done() / size;
    }
}
