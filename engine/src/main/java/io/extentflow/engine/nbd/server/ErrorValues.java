package io.extentflow.engine.nbd.server;

import io.extentflow.engine.io.Posix;
import io.extentflow.engine.nbd.NbdException;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.io.IOException;

/**
 * The NBD error value a failed source or sink operation is reported with: ENOSPC where the sink ran
 * out of space (EDQUOT and EFBIG included, as the spec asks), EPERM where it refused, an NBD peer's
 * own value passed on, EIO otherwise.
 */
final class ErrorValues {

    private static final int EPERM = 1;
    private static final int EFBIG = 27;
    private static final int EROFS = 30;
    private static final int EDQUOT = 122;

    private ErrorValues() {
    }

    /** The error value for {@code failure}. */
    static int of(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof NbdException e && e.error() != NbdException.NO_ERROR_VALUE) {
                return e.error();
            }
            if (t instanceof Posix.ErrnoException e) {
                return switch (e.errno()) {
                    case Posix.ENOSPC, EDQUOT, EFBIG -> NbdProtocol.ENOSPC;
                    case EPERM, EROFS -> NbdProtocol.EPERM;
                    default -> NbdProtocol.EIO;
                };
            }
            if (t instanceof IOException e && e.getMessage() != null && e.getMessage().contains("No space left")) {
                return NbdProtocol.ENOSPC;
            }
        }
        return NbdProtocol.EIO;
    }
}
