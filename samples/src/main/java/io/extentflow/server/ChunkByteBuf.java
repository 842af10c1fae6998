package io.extentflow.server;

import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import java.nio.ByteBuffer;

/**
 * A Netty buffer over one of the server's pooled direct buffers, handed to the socket for a
 * download. When Netty releases it (written, or dropped because the client went away) the pooled
 * buffer goes back to its owner: that is what bounds the memory of a download to the buffers it may
 * hold, however slow the client.
 */
final class ChunkByteBuf extends UnpooledDirectByteBuf {

    private final Runnable onFree;

    /** Wraps the remaining bytes of {@code filled}; {@code onFree} runs once, when the last reference goes. */
    ChunkByteBuf(ByteBuffer filled, Runnable onFree) {
        super(UnpooledByteBufAllocator.DEFAULT, filled, filled.remaining());
        this.onFree = onFree;
    }

    @Override
    protected void deallocate() {
        super.deallocate();
        onFree.run();
    }
}
