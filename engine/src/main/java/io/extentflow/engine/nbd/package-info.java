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
 *   <li>{@code NbdConnection}: one socket. Runs the fixed newstyle handshake, then keeps many requests
 *       in flight, matched to replies by cookie, each with a timeout. Everything happens on the
 *       channel's event loop. Read data is received straight into the reads' (direct) targets
 *       ({@code InPlaceReceiveAllocator}), not copied out of a receive buffer.</li>
 *   <li>{@link io.extentflow.engine.nbd.message}: the wire format as immutable messages and the
 *       decoder that cuts the byte stream into them (read data is streamed, never gathered).</li>
 *   <li>{@link io.extentflow.engine.nbd.NbdMapFormat}: {@code nbdinfo --map --json} output for
 *       {@code extentflow map}.</li>
 * </ul>
 * Errors are {@link io.extentflow.engine.nbd.NbdException}s naming the operation, range, export and
 * NBD error.
 */
package io.extentflow.engine.nbd;
