/**
 * What an NBD server sends: the {@link io.extentflow.engine.nbd.message.reply.Greeting} and
 * {@link io.extentflow.engine.nbd.message.reply.OptionReply}s during the handshake, then
 * {@link io.extentflow.engine.nbd.message.reply.Reply}s (a simple reply or structured reply chunks).
 * Immutable values; {@link io.extentflow.engine.nbd.message.NbdFrameDecoder} makes them on the client.
 */
package io.extentflow.engine.nbd.message.reply;
