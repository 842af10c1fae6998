/**
 * What an NBD client sends: {@link io.extentflow.engine.nbd.message.request.ClientFlags} and
 * {@link io.extentflow.engine.nbd.message.request.OptionRequest}s during the handshake, then
 * {@link io.extentflow.engine.nbd.message.request.Request} headers. Immutable values that encode
 * themselves; a server decodes them.
 */
package io.extentflow.engine.nbd.message.request;
