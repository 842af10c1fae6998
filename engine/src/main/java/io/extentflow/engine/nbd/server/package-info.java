/**
 * An NBD server on Reactor Netty for one {@link io.extentflow.engine.nbd.server.NbdExport} (an
 * {@link io.extentflow.engine.ImageSource}, and an {@link io.extentflow.engine.ImageSink} when
 * writable), reusing the client's immutable messages.
 *
 * <ul>
 *   <li>{@link io.extentflow.engine.nbd.server.NbdServer}: binds (TCP or a Unix socket, TLS when
 *       configured), bounds connections, shuts down gracefully.</li>
 *   <li>{@code NbdSession}: one connection on its event loop; reading pauses while the server's
 *       {@code ByteBudget} has no room or 64 requests run; {@code DataBuffers} holds the READ and WRITE
 *       data the budget admits, in reused pieces of one mapping.</li>
 *   <li>{@code ClientMessageDecoder}: client flags, options, request headers and WRITE payloads.</li>
 *   <li>{@code Handshake}: fixed newstyle option haggling; {@code MetaContexts} and
 *       {@code ExportContexts}: the metadata contexts and their status maps.</li>
 *   <li>{@code RequestHandler}: the transmission phase; {@code ReplyEncoder} writes its replies
 *       (compact or extended), {@code BlockStatusReport} bounds block status replies,
 *       {@code ExtentCache} keeps the extents READ replies use, {@code StatusCache} the block status
 *       of the ranges asked last (answered on the event loop), {@code ErrorValues} maps failures to
 *       NBD errors.</li>
 * </ul>
 */
package io.extentflow.engine.nbd.server;
