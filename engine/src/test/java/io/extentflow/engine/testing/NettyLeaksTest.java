package io.extentflow.engine.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/** The leak check used by the NBD tests really fails on a leaked buffer. */
class NettyLeaksTest {

    @Test
    void aLeakedBufferFailsTheCheck() {
        NettyLeaks.assertNoLeaks();
        leak();
        AssertionError e = assertThrows(AssertionError.class, NettyLeaks::assertNoLeaks);
        assertTrue(e.getMessage().contains("leak"), e.getMessage());
        NettyLeaks.assertNoLeaks();
    }

    private static void leak() {
        ByteBuf b = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        b.writeLong(42);
        // dropped without release
    }
}
