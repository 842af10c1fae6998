package io.extentflow.engine.nbd.message;

/**
 * {@code NBD_REPLY_TYPE_BLOCK_STATUS}: the status of consecutive ranges from the request's offset for
 * one metadata context.
 *
 * @param cookie    the request's cookie
 * @param done      last chunk of the reply
 * @param contextId the context chosen by the server during the handshake
 * @param lengths   length of each descriptor (unsigned 32-bit on the wire)
 * @param flags     status flags of each descriptor (not copied; do not change the arrays)
 */
public record BlockStatusChunk(long cookie, boolean done, int contextId, long[] lengths, int[] flags)
        implements Reply {
}
