package io.extentflow.sources.qcow2;

/**
 * Thrown by metadata lookups asked not to block when the answer needs a file read (an L2 table not
 * in the cache, a raw backing file's {@code lseek}). The caller then redoes the work on the file I/O
 * scheduler. Carries no stack trace: it is control flow, thrown often on purpose.
 */
final class WouldBlock extends RuntimeException {

    static final WouldBlock INSTANCE = new WouldBlock();

    private WouldBlock() {
        super("metadata lookup needs file I/O", null, false, false);
    }
}
