/**
 * The NBD wire protocol (NetworkBlockDevice/nbd {@code doc/proto.md}): numbers in
 * {@link io.extentflow.engine.nbd.message.NbdProtocol}, what the client sends
 * ({@link io.extentflow.engine.nbd.message.OptionRequest}, {@link io.extentflow.engine.nbd.message.Request}),
 * what the server sends ({@link io.extentflow.engine.nbd.message.Greeting},
 * {@link io.extentflow.engine.nbd.message.OptionReply}, {@link io.extentflow.engine.nbd.message.Reply}
 * and its chunk types), and {@link io.extentflow.engine.nbd.message.NbdFrameDecoder}.
 */
package io.extentflow.engine.nbd.message;
