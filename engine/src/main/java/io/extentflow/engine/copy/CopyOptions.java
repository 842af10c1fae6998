package io.extentflow.engine.copy;

/**
 * How a copy runs. Immutable; start from {@link #defaults()} and change with the {@code with...} methods.
 *
 * @param requestSize     largest data request in bytes (capped by the sink's maximum), or
 *                        {@link #AUTOMATIC_REQUEST_SIZE} to let the copy choose (see {@link #DEFAULT_REQUEST_SIZE})
 * @param maxInFlight     bytes of data buffers in flight at most; bounds the copy's memory
 * @param windowSize      bytes of image whose extents are fetched per request to the source
 * @param detectZeroes    scan data for all-zero 4 KiB blocks and turn them into zero requests
 * @param targetIsZero    the caller knows the target already reads as zeros (like qemu-img's
 *                        {@code --target-is-zero}): zero extents are skipped
 * @param flush           flush the sink once at the end
 */
public record CopyOptions(int requestSize, long maxInFlight, long windowSize, boolean detectZeroes,
                          boolean targetIsZero, boolean flush) {

    /** The request size that lets the copy choose: the ends' preferences, else {@link #DEFAULT_REQUEST_SIZE}. */
    public static final int AUTOMATIC_REQUEST_SIZE = 0;

    /**
     * The automatic request size when neither end prefers one. 4 MiB: fewer requests make HTTP
     * copies cheaper (a download of 2 GiB took 2.9-3.3 s with 4 MiB requests and 3.2-4.5 s with
     * 1 MiB ones). Large requests were once costly for file targets, but the file sink now writes
     * them in 256 KiB pieces. NBD sources prefer 512 KiB, NBD targets 1 MiB (perf/README.md, "Request
     * size" and "Writing to NBD").
     */
    public static final int DEFAULT_REQUEST_SIZE = 4 << 20;
    /**
     * Data buffer bytes in flight by default. 32 MiB: eight 4 MiB requests keep a local disk or an
     * NBD server as busy as sixteen did, and a copy's whole peak RSS stays within 128 MiB
     * (perf/README.md, "Memory").
     */
    public static final long DEFAULT_MAX_IN_FLIGHT = 32L << 20;
    public static final long DEFAULT_WINDOW_SIZE = 1L << 30;

    public CopyOptions {
        if (requestSize != AUTOMATIC_REQUEST_SIZE
                && (requestSize < ZeroDetector.BLOCK_SIZE || requestSize % ZeroDetector.BLOCK_SIZE != 0)) {
            throw new IllegalArgumentException("request size must be a positive multiple of "
                    + ZeroDetector.BLOCK_SIZE + ", got " + requestSize);
        }
        if (maxInFlight < requestSize) {
            throw new IllegalArgumentException("max in flight (" + maxInFlight
                    + ") must be at least the request size (" + requestSize + ")");
        }
        if (windowSize <= 0) {
            throw new IllegalArgumentException("window size must be positive, got " + windowSize);
        }
    }

    /**
     * Automatic request size, 64 MiB in flight, 1 GiB extent windows, zero detection on, flush at
     * the end.
     */
    public static CopyOptions defaults() {
        return new CopyOptions(AUTOMATIC_REQUEST_SIZE, DEFAULT_MAX_IN_FLIGHT, DEFAULT_WINDOW_SIZE, true, false, true);
    }

    /** The options with this request size; {@link #AUTOMATIC_REQUEST_SIZE} lets the copy choose. */
    public CopyOptions withRequestSize(int value) {
        return new CopyOptions(value, Math.max(maxInFlight, value), windowSize, detectZeroes, targetIsZero, flush);
    }

    public CopyOptions withMaxInFlight(long value) {
        return new CopyOptions(requestSize, value, windowSize, detectZeroes, targetIsZero, flush);
    }

    public CopyOptions withWindowSize(long value) {
        return new CopyOptions(requestSize, maxInFlight, value, detectZeroes, targetIsZero, flush);
    }

    public CopyOptions withDetectZeroes(boolean value) {
        return new CopyOptions(requestSize, maxInFlight, windowSize, value, targetIsZero, flush);
    }

    public CopyOptions withTargetIsZero(boolean value) {
        return new CopyOptions(requestSize, maxInFlight, windowSize, detectZeroes, value, flush);
    }

    public CopyOptions withFlush(boolean value) {
        return new CopyOptions(requestSize, maxInFlight, windowSize, detectZeroes, targetIsZero, value);
    }
}
