package io.extentflow.server;

/**
 * A request the server refuses: the status and the one-line reason sent as a {@code text/plain} body.
 *
 * @param status       HTTP status
 * @param contentRange value for a {@code Content-Range} header (416 replies), or null
 * @param close        add {@code Connection: close} (the request body was not read, or access was denied)
 */
final class ApiError extends RuntimeException {

    final int status;
    final String contentRange;
    final boolean close;

    ApiError(int status, String message, String contentRange, boolean close) {
        super(message, null, false, false);
        this.status = status;
        this.contentRange = contentRange;
        this.close = close;
    }

    static ApiError badRequest(String message) {
        return new ApiError(400, message, null, false);
    }

    static ApiError forbidden(String reason) {
        return new ApiError(403, "You are not allowed to access this resource: " + reason, null, true);
    }

    static ApiError notFound(String message) {
        return new ApiError(404, message, null, false);
    }

    static ApiError methodNotAllowed(String method, String path) {
        return new ApiError(405, "Method '" + method + "' not defined for '" + path + "'", null, false);
    }

    /** 416 with {@code Content-Range: bytes *}{@code /<size>}. */
    static ApiError outOfRange(String message, long size) {
        return new ApiError(416, message, "bytes */" + size, false);
    }

    /** The same error, closing the connection afterwards. */
    ApiError closing() {
        return close ? this : new ApiError(status, getMessage(), contentRange, true);
    }
}
