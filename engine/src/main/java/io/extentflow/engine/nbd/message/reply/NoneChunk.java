package io.extentflow.engine.nbd.message.reply;

/**
 * {@code NBD_REPLY_TYPE_NONE}: ends a structured reply without content.
 *
 * @param cookie the request's cookie
 * @param done   always true for a well-formed reply
 */
public record NoneChunk(long cookie, boolean done) implements Reply {
}
