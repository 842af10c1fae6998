package io.extentflow.engine.nbd.message;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.extentflow.engine.nbd.message.reply.Greeting;
import io.extentflow.engine.nbd.message.reply.OptionReply;
import io.extentflow.engine.nbd.message.request.OptionRequest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import org.junit.jupiter.api.Test;

/**
 * The handshake messages encode themselves as a server sends them, and the client's decoder reads
 * back what was encoded: a server can reuse them as they are.
 */
class HandshakeMessagesTest {

    @Test
    void whatAServerEncodesTheClientDecodes() {
        EmbeddedChannel ch = new EmbeddedChannel(new NbdFrameDecoder());
        Greeting greeting = new Greeting(NbdProtocol.FLAG_FIXED_NEWSTYLE | NbdProtocol.FLAG_NO_ZEROES);
        ByteBuffer size = ByteBuffer.allocate(12).putShort((short) NbdProtocol.INFO_EXPORT).putLong(1L << 40)
                .putShort((short) NbdProtocol.TF_READ_ONLY);
        OptionReply info = new OptionReply(NbdProtocol.OPT_GO, NbdProtocol.REP_INFO, size.array());
        OptionReply ack = new OptionReply(NbdProtocol.OPT_GO, NbdProtocol.REP_ACK, new byte[0]);

        ByteBuf wire = Unpooled.buffer();
        greeting.encode(wire);
        ByteBuf replies = Unpooled.wrappedBuffer(info.encode(ByteBufAllocator.DEFAULT), ack.encode(ByteBufAllocator.DEFAULT));
        assertEquals(Greeting.SIZE, wire.readableBytes());
        ch.writeInbound(wire, replies);

        assertEquals(greeting, ch.readInbound());
        OptionReply infoBack = ch.readInbound();
        assertEquals(info, infoBack);
        assertEquals(1L << 40, infoBack.data().getLong(2));
        assertEquals(ack, ch.readInbound());
        assertFalse(ch.finish());
    }

    @Test
    void optionMessagesCannotBeChangedThroughWhatTheyHandOut() {
        byte[] data = {1, 2, 3};
        OptionRequest request = new OptionRequest(NbdProtocol.OPT_GO, data);
        OptionReply reply = new OptionReply(NbdProtocol.OPT_GO, NbdProtocol.REP_INFO, data);
        data[0] = 9;
        assertEquals(1, request.data().get(0));
        assertEquals(1, reply.data().get(0));
        assertThrows(ReadOnlyBufferException.class, () -> request.data().put(0, (byte) 7));
        assertThrows(ReadOnlyBufferException.class, () -> reply.data().put(0, (byte) 7));
        ByteBuf encoded = request.encode(ByteBufAllocator.DEFAULT);
        try {
            assertEquals(NbdProtocol.IHAVEOPT, encoded.readLong());
            assertEquals(NbdProtocol.OPT_GO, encoded.readInt());
            assertEquals(3, encoded.readInt());
            byte[] back = new byte[3];
            encoded.readBytes(back);
            assertArrayEquals(new byte[] {1, 2, 3}, back);
            assertFalse(reply.isFinal());
            assertFalse(reply.isError());
        } finally {
            encoded.release();
        }
    }
}
