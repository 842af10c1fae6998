package io.extentflow.engine.nbd.message.reply;

/**
 * A message of the transmission phase from the server: a simple reply or one structured reply
 * chunk. Each carries the cookie of the request it answers and whether it ends that reply.
 */
public sealed interface Reply permits SimpleReply, DataChunk, HoleChunk, BlockStatusChunk, ErrorChunk, NoneChunk {

    /** The cookie of the request this answers. */
    long cookie();

    /** True when this is the last message for the request. */
    boolean done();
}
