package io.extentflow.engine.nbd.server;

import io.extentflow.engine.copy.BufferPool;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The memory of READ replies and WRITE payloads: fixed {@link #PIECE}-byte pieces cut from one mapping
 * (a {@link BufferPool}) and reused, a READ taking as many as its length needs. The server's
 * {@link ByteBudget} admits a READ or WRITE only for whole pieces ({@link #cost}), so the pool, sized to the
 * budget, always has them: taking never waits.
 *
 * <p>Why not Netty's allocator: a READ is 256 KiB (nbdcopy) to 32 MiB, beyond what Netty pools, so each
 * one was a fresh malloc, cleared, and freed once written. glibc keeps what it frees in per-thread
 * arenas of 64 MiB that it seldom gives back: after a few busy clients the server held 4 such arenas
 * on top of its heap (300-470 MiB of RSS). Here the memory is at most the budget, whatever the
 * number of clients or the image size, and it is never cleared twice.
 */
final class DataBuffers {

    /** Bytes per piece: nbdcopy's request size; larger READs take several. */
    static final int PIECE = 256 * 1024;

    private final BufferPool pool;
    private final ByteBufAllocator alloc;

    /** @param bytes the pool's size, at least one piece (the server's byte budget) */
    DataBuffers(long bytes, ByteBufAllocator alloc) {
        this.pool = BufferPool.ofBytes(PIECE, bytes);
        this.alloc = alloc;
    }

    /** What the budget charges a READ or WRITE of {@code length} bytes: whole pieces. */
    static long cost(long length) {
        return Math.max(1, (length + PIECE - 1) / PIECE) * PIECE;
    }

    /**
     * A buffer of exactly {@code length} bytes (positive), empty (writer index 0), made of pieces;
     * releasing it gives them back. Its {@link ByteBuf#nioBuffers(int, int)} are views of the pieces
     * (never copies), so reads can go straight into them.
     */
    Mono<ByteBuf> take(int length) {
        int pieces = (length + PIECE - 1) / PIECE;
        if (pieces == 1) {
            return pool.acquire().map(b -> new Piece(b, length).writerIndex(0));
        }
        return Flux.range(0, pieces)
                .concatMap(i -> pool.acquire())
                .collectList()
                .doOnDiscard(ByteBuffer.class, pool::release)
                .map(list -> compose(list, length));
    }

    /**
     * Like {@link #take} but here and now: null when the pool has not enough free pieces (it always has
     * them for a request the budget admitted, unless a cancelled request's read still holds its own).
     */
    @Nullable ByteBuf takeNow(int length) {
        int pieces = (length + PIECE - 1) / PIECE;
        if (pieces == 1) {
            ByteBuffer b = pool.poll();
            return b == null ? null : new Piece(b, length).writerIndex(0);
        }
        List<ByteBuffer> memory = new ArrayList<>(pieces);
        for (int i = 0; i < pieces; i++) {
            ByteBuffer b = pool.poll();
            if (b == null) {
                memory.forEach(pool::release);
                return null;
            }
            memory.add(b);
        }
        return compose(memory, length);
    }

    private ByteBuf compose(List<ByteBuffer> memory, int length) {
        CompositeByteBuf whole = alloc.compositeDirectBuffer(memory.size());
        int left = length;
        for (ByteBuffer b : memory) {
            int n = Math.min(left, PIECE);
            whole.addComponent(true, new Piece(b, n)); // its readable bytes are the component's length
            left -= n;
        }
        return whole.writerIndex(0);
    }

    /** Bytes of pieces handed out now. */
    long inUse() {
        return pool.bytesInFlight();
    }

    /** One piece as a Netty buffer of {@code length} bytes; its last release returns the piece. */
    private final class Piece extends UnpooledDirectByteBuf {

        private final ByteBuffer memory;

        Piece(ByteBuffer memory, int length) {
            super(alloc, memory.duplicate().clear().limit(length).slice(), length);
            this.memory = memory;
        }

        @Override
        protected void deallocate() {
            pool.release(memory);
        }
    }
}
