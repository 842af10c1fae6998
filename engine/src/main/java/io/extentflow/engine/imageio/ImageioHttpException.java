package io.extentflow.engine.imageio;

import java.io.IOException;

/** An imageio server answered with an error status; the message is its one-line reason. */
public final class ImageioHttpException extends IOException {

    private final int status;

    public ImageioHttpException(int status, String reason) {
        super("HTTP " + status + (reason == null || reason.isBlank() ? "" : " " + reason));
        this.status = status;
    }

    /** The HTTP status code. */
    public int status() {
        return status;
    }

    /** True for statuses worth retrying: server failures and overload (5xx). */
    public boolean retryable() {
        return status >= 500;
    }
}
