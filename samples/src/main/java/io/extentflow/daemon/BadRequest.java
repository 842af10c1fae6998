package io.extentflow.daemon;

/** A request the jobs API refuses with a status (400, 401, 404, ...) and a one-line reason. */
final class BadRequest extends RuntimeException {

    final int status;

    BadRequest(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    static BadRequest invalid(String message) {
        return new BadRequest(400, message);
    }
}
