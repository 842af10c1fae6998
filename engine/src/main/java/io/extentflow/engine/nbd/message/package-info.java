/**
 * The NBD wire protocol (NetworkBlockDevice/nbd {@code doc/proto.md}): numbers in
 * {@link io.extentflow.engine.nbd.message.NbdProtocol}, what the client sends (sub-package
 * {@code request}), what the server sends (sub-package {@code reply}), and
 * {@link io.extentflow.engine.nbd.message.NbdFrameDecoder}, which cuts the server's byte stream into
 * replies on the client.
 */
package io.extentflow.engine.nbd.message;
