/**
 * An NBD client on Reactor Netty, shared by the NBD source and sink.
 *
 * <p>How it fits together:
 * <ul>
 *   <li>{@link io.extentflow.engine.nbd.NbdAddress}: NBD URIs ({@code nbd://host[:port]/export},
 *       {@code nbd+unix:///export?socket=PATH}).</li>
 *   <li>{@link io.extentflow.engine.nbd.NbdClient}: the public face. Opens one connection, learns the
 *       export ({@link io.extentflow.engine.nbd.ExportInfo}), opens more when the server allows
 *       multi-conn, splits requests to the server's limits, spreads them over connections and retries
 *       transient failures on fresh connections.</li>
 *   <li>{@code NbdConnection}: one socket, and the owner of its life (failures, close, retirement).
 *       Everything happens on the channel's event loop. Its two phases:
 *       <ul>
 *         <li>{@code HandshakeFlow}: the fixed newstyle handshake as a flow of option exchanges
 *             ({@code OptionExchange} is the connection's side of them);</li>
 *         <li>{@code Transmission}: many requests in flight ({@code PendingRequests}, each a
 *             {@code PendingRequest} with a timeout), matched to replies by cookie. Read data is
 *             received straight into the reads' (direct) targets ({@code InPlaceReceiveAllocator}),
 *             not copied out of a receive buffer.</li>
 *       </ul></li>
 *   <li>{@link io.extentflow.engine.nbd.message}: the wire format as immutable messages, what a client
 *       sends ({@code message.request}) and what a server sends ({@code message.reply}), and the
 *       decoder that cuts the server's byte stream into them (read data is streamed, never gathered).</li>
 *   <li>{@link io.extentflow.engine.nbd.server}: the server side, serving any source (and sink) as an
 *       export, on the same messages.</li>
 *   <li>{@link io.extentflow.engine.nbd.NbdMapFormat}: {@code nbdinfo --map --json} output for
 *       {@code extentflow map}.</li>
 * </ul>
 * Errors are {@link io.extentflow.engine.nbd.NbdException}s naming the operation, range, export and
 * NBD error.
 */
package io.extentflow.engine.nbd;
