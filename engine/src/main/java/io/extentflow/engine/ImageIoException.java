package io.extentflow.engine;

/**
 * An I/O request that failed, with everything needed to find the cause: the operation, the range
 * and the endpoint. The message is one line fit for a user.
 */
public class ImageIoException extends RuntimeException {

    private final String operation;
    private final String endpoint;
    private final long offset;
    private final long length;

    /**
     * @param operation what was asked, e.g. {@code read}, {@code write}, {@code zero}, {@code extents}
     * @param endpoint  the endpoint's address
     * @param offset    first byte of the request
     * @param length    length of the request
     * @param reason    the cause in words, e.g. {@code No space left on device}
     * @param cause     the underlying exception, may be null
     */
    public ImageIoException(String operation, String endpoint, long offset, long length, String reason,
                            Throwable cause) {
        super(operation + " of " + length + " bytes at offset " + offset + " on " + endpoint + " failed: " + reason,
                cause);
        this.operation = operation;
        this.endpoint = endpoint;
        this.offset = offset;
        this.length = length;
    }

    /** Wraps {@code cause}, using its message as the reason; an {@code ImageIoException} is returned as is. */
    public static ImageIoException wrap(String operation, String endpoint, long offset, long length,
                                        Throwable cause) {
        if (cause instanceof ImageIoException e) {
            return e;
        }
        return new ImageIoException(operation, endpoint, offset, length, reason(cause), cause);
    }

    /** True if {@code [offset, offset + length)} lies within an image of {@code size} bytes. */
    public static boolean fits(long offset, long length, long size) {
        return offset >= 0 && length >= 0 && offset <= size - length;
    }

    /** The error for a request that does not fit in an image of {@code size} bytes. */
    public static ImageIoException outside(String operation, String endpoint, long offset, long length, long size) {
        return new ImageIoException(operation, endpoint, offset, length,
                "range is outside the image (size " + size + ")", null);
    }

    /** A user-facing reason for a throwable: its message, or its class name when it has none. */
    public static String reason(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    public String operation() {
        return operation;
    }

    public String endpoint() {
        return endpoint;
    }

    public long offset() {
        return offset;
    }

    public long length() {
        return length;
    }
}
