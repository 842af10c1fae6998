package io.extentflow.engine.nbd.message.reply;

/**
 * {@code NBD_REPLY_TYPE_OFFSET_HOLE}: a range of a read that reads as zeros; the client fills zeros.
 *
 * @param cookie the request's cookie
 * @param done   last chunk of the reply
 * @param offset absolute offset of the hole
 * @param length bytes (unsigned 32-bit on the wire)
 */
public record HoleChunk(long cookie, boolean done, long offset, long length) implements Reply {
}
