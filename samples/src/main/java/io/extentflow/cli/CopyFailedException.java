package io.extentflow.cli;

import io.extentflow.engine.copy.CopyProgress;

/**
 * A copy that failed, with how far it got, so the user knows what the target holds: everything
 * outside the bytes done is untouched or incomplete.
 */
final class CopyFailedException extends RuntimeException {

    CopyFailedException(Throwable cause, CopyProgress last) {
        super(Errors.message(cause) + "; " + progress(last), cause);
    }

    /**
     * What was done, as the copy confirmed it. Without a progress report yet (a failure within the
     * first ranges) that is none; it does not mean nothing reached the target: writes in flight when
     * the copy failed may have landed (a full file system fails a write after others filled it).
     */
    private static String progress(CopyProgress p) {
        long done = p == null ? 0 : p.done();
        long data = p == null ? 0 : p.dataBytes();
        long zeroed = p == null ? 0 : p.zeroedBytes();
        return "the copy stopped after " + Sizes.human(done) + " of the image were done ("
                + Sizes.human(data) + " data written, " + Sizes.human(zeroed) + " zeroed)";
    }
}
