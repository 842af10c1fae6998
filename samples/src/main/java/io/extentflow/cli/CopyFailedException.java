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

    private static String progress(CopyProgress p) {
        if (p == null) {
            return "nothing was written to the target";
        }
        return "the copy stopped after " + Sizes.human(p.done()) + " of the image were done ("
                + Sizes.human(p.dataBytes()) + " data written, " + Sizes.human(p.zeroedBytes()) + " zeroed)";
    }
}
