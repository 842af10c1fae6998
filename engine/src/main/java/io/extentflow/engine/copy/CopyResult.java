package io.extentflow.engine.copy;

import java.time.Duration;

/**
 * What a finished copy did.
 *
 * @param size              image size in bytes
 * @param resumedBytes      bytes below the offset a resumed copy started at (done by an earlier run)
 * @param dataBytes         bytes read and written as data
 * @param zeroedBytes       bytes turned into zero requests (including zero blocks found in data)
 * @param skippedBytes      bytes that needed no request
 * @param readBytes         bytes read from the source (data extents, before zero detection)
 * @param peakBytesInFlight the most buffer bytes held at once
 * @param duration          wall time of the copy including the final flush
 * @param offloadedBytes    of {@code dataBytes} (and {@code readBytes}), those the sink copied itself
 *                          ({@link io.extentflow.engine.capability.OffloadedCopy}, e.g. in the kernel)
 */
public record CopyResult(long size, long resumedBytes, long dataBytes, long zeroedBytes, long skippedBytes, long readBytes,
                         long peakBytesInFlight, Duration duration, long offloadedBytes) {

    /** A result with nothing offloaded. */
    public CopyResult(long size, long resumedBytes, long dataBytes, long zeroedBytes, long skippedBytes,
                      long readBytes, long peakBytesInFlight, Duration duration) {
        this(size, resumedBytes, dataBytes, zeroedBytes, skippedBytes, readBytes, peakBytesInFlight, duration, 0);
    }

    /** Source bytes processed per second (the image size over the wall time). */
    public double bytesPerSecond() {
        double s = duration.toNanos() / 1e9;
        return s <= 0 ? 0 : size / s;
    }
}
