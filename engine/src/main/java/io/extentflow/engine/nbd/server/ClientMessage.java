package io.extentflow.engine.nbd.server;

import io.extentflow.engine.nbd.message.request.Request;
import io.netty.buffer.ByteBuf;

/**
 * What {@link ClientMessageDecoder} cuts from a client's byte stream besides the handshake's
 * {@link io.extentflow.engine.nbd.message.request.ClientFlags} and
 * {@link io.extentflow.engine.nbd.message.request.OptionRequest}s.
 */
sealed interface ClientMessage {

    /**
     * A request of the transmission phase.
     *
     * @param header   the request header as sent
     * @param payload  a WRITE's payload (the receiver owns and releases it), or null
     * @param tooLarge the header announced a payload beyond the export's maximum; it was discarded
     */
    record Command(Request header, ByteBuf payload, boolean tooLarge) implements ClientMessage {
    }

    /**
     * An option whose data was longer than the server accepts; the data was discarded unread so the
     * handshake stays in step.
     *
     * @param option the option code
     * @param length the announced data length
     */
    record OversizedOption(int option, long length) implements ClientMessage {
    }

    /**
     * Bytes that cannot be an NBD message (a wrong magic): the stream cannot be followed any further.
     *
     * @param reason what was wrong, for the log
     */
    record Malformed(String reason) implements ClientMessage {
    }
}
