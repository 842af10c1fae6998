package io.extentflow.engine.nbd;

import io.extentflow.engine.ImageIoException;

/**
 * An NBD request (or the connection it was on) failed. The message names the operation, range,
 * export and cause, e.g. {@code read of 4096 bytes at offset 0 on nbd+unix:///disk?socket=/s failed:
 * server replied EIO (input/output error): injected error}.
 */
public class NbdException extends ImageIoException {

    /** Error value when the failure was not an NBD error reply. */
    public static final int NO_ERROR_VALUE = 0;

    private final int error;
    private final boolean transientFailure;
    private final String reason;

    /**
     * @param error            the NBD error value from the server, or {@link #NO_ERROR_VALUE}
     * @param transientFailure true when sending the request again may succeed
     */
    public NbdException(String operation, String endpoint, long offset, long length, String reason, int error,
                        boolean transientFailure, Throwable cause) {
        super(operation, endpoint, offset, length, reason, cause);
        this.error = error;
        this.transientFailure = transientFailure;
        this.reason = reason;
    }

    /** The NBD error value, or {@link #NO_ERROR_VALUE}. */
    public int error() {
        return error;
    }

    /** True when a retry may succeed (connection lost, EIO, ESHUTDOWN). */
    public boolean isTransient() {
        return transientFailure;
    }

    /** The cause in words, without the operation and range. */
    public String reason() {
        return reason;
    }

    /** The same failure attributed to another request (e.g. a reconnect failing on behalf of a read). */
    public NbdException forRequest(String operation, long offset, long length) {
        return new NbdException(operation, endpoint(), offset, length, reason, error, transientFailure, this);
    }

    /**
     * The same failure with another reason (e.g. how many attempts were made), no longer transient:
     * it is the final word on the request. The cause stays the same.
     */
    public NbdException withReason(String value) {
        return new NbdException(operation(), endpoint(), offset(), length(), value, error, false, getCause());
    }
}
