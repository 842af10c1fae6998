package io.extentflow.engine.nbd.message.reply;

/**
 * An error chunk ({@code NBD_REPLY_TYPE_ERROR}, {@code ERROR_OFFSET} or any type with bit 15 set):
 * the request failed.
 *
 * @param cookie  the request's cookie
 * @param done    last chunk of the reply
 * @param error   NBD error value
 * @param message the server's explanation, possibly empty
 * @param offset  the offset the error applies to ({@code ERROR_OFFSET}), or -1
 */
public record ErrorChunk(long cookie, boolean done, int error, String message, long offset) implements Reply {
}
