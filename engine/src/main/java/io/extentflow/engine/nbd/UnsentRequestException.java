package io.extentflow.engine.nbd;

/**
 * A request that failed before it was sent: its connection was retired or closed while the request
 * was on its way to it. The server never saw it, so sending it again elsewhere is always safe and
 * does not count as a retry.
 */
final class UnsentRequestException extends NbdException {

    UnsentRequestException(String operation, String endpoint, long offset, long length, String reason,
                           boolean transientFailure) {
        super(operation, endpoint, offset, length, reason, NO_ERROR_VALUE, transientFailure, null);
    }
}
