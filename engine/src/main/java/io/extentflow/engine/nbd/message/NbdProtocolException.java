package io.extentflow.engine.nbd.message;

/**
 * The server sent something the protocol does not allow (a bad magic, an impossible length, a chunk
 * that does not fit its request). The connection cannot be trusted after this and is closed.
 */
public class NbdProtocolException extends RuntimeException {

    public NbdProtocolException(String message) {
        super(message);
    }
}
