package io.extentflow.engine.nbd.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The server's data pieces: exact lengths, reads straight into the pieces, every piece back on release. */
class DataBuffersTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int PIECE = DataBuffers.PIECE;

    private final DataBuffers buffers = new DataBuffers(8L * PIECE, ByteBufAllocator.DEFAULT);

    @Test
    void aBufferSpanningPiecesTakesWhatBytesLandInItsViews() {
        int length = 2 * PIECE + 1000;
        ByteBuf b = buffers.take(length).block(WAIT);
        try {
            assertEquals(length, b.capacity());
            assertEquals(0, b.writerIndex());
            assertEquals(3L * PIECE, buffers.inUse());
            byte[] data = new byte[length - 10];
            new SplittableRandom(3).nextBytes(data);
            // what a source's read does: fill the views of a range that crosses two pieces
            ByteBuffer[] views = b.nioBuffers(10, data.length);
            assertEquals(3, views.length);
            int at = 0;
            for (ByteBuffer v : views) {
                int n = v.remaining();
                v.put(data, at, n);
                at += n;
            }
            b.writerIndex(length);
            byte[] back = new byte[data.length];
            b.getBytes(10, back);
            assertArrayEquals(data, back);
        } finally {
            b.release();
        }
        assertEquals(0, buffers.inUse());
    }

    @Test
    void piecesComeBackWhenTheLastSliceIsReleased() {
        ByteBuf one = buffers.take(100).block(WAIT);
        ByteBuf slice = one.writerIndex(100).retainedSlice(0, 50);
        one.release();
        assertEquals(PIECE, buffers.inUse());
        slice.release();
        assertEquals(0, buffers.inUse());
    }

    @Test
    void costIsWholePieces() {
        assertEquals(PIECE, DataBuffers.cost(0));
        assertEquals(PIECE, DataBuffers.cost(1));
        assertEquals(PIECE, DataBuffers.cost(PIECE));
        assertEquals(2L * PIECE, DataBuffers.cost(PIECE + 1));
        assertEquals(32L << 20, DataBuffers.cost(32 << 20));
    }
}
