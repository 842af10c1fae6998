package io.extentflow.engine.nbd.message.reply;

import io.netty.buffer.ByteBuf;

/**
 * Read data at an absolute offset: an {@code NBD_REPLY_TYPE_OFFSET_DATA} chunk, or a piece of one (the
 * decoder hands large chunks on as they arrive, without waiting for the whole payload).
 *
 * <p>Owns a reference to {@code data}, a slice of the receive buffer (not copied, which is the point):
 * whoever handles the chunk reads it and must release it.
 *
 * @param cookie the request's cookie
 * @param done   this is the last piece of the last chunk of the reply
 * @param offset absolute offset of the first byte of {@code data}
 * @param data   the bytes
 */
public record DataChunk(long cookie, boolean done, long offset, ByteBuf data) implements Reply {
}
