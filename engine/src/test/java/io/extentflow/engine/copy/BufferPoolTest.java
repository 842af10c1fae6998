package io.extentflow.engine.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

class BufferPoolTest {

    @Test
    void neverHandsOutMoreThanItsCount() {
        BufferPool pool = new BufferPool(4096, 3);
        List<ByteBuffer> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(pool.acquire().block(Duration.ofSeconds(1)));
        }
        AtomicReference<ByteBuffer> fourth = new AtomicReference<>();
        Disposable waiting = pool.acquire().subscribe(fourth::set);
        assertNull(fourth.get(), "a fourth buffer was handed out");
        assertEquals(3, pool.outstanding());
        pool.release(held.get(0));
        assertSame(held.get(0), fourth.get(), "the waiter should get the released buffer");
        assertEquals(3, pool.outstanding());
        waiting.dispose();
        assertEquals(3, pool.peakOutstanding());
    }

    @Test
    void cancelledWaiterTakesNothing() {
        BufferPool pool = new BufferPool(4096, 1);
        ByteBuffer only = pool.acquire().block(Duration.ofSeconds(1));
        Disposable waiting = pool.acquire().subscribe();
        waiting.dispose();
        pool.release(only);
        assertEquals(0, pool.outstanding());
        assertNotNull(pool.acquire().block(Duration.ofSeconds(1)), "the buffer was lost to a cancelled waiter");
    }

    @Test
    void concurrentUseLosesNoBuffer() {
        BufferPool pool = new BufferPool(1024, 4);
        Flux.range(0, 20_000)
                .flatMap(i -> Mono.usingWhen(pool.acquire(), b -> Mono.just(i).publishOn(Schedulers.parallel()),
                        b -> Mono.fromRunnable(() -> pool.release(b))), 64)
                .blockLast(Duration.ofSeconds(30));
        assertEquals(0, pool.outstanding());
        assertEquals(4, pool.peakOutstanding());
    }

    @Test
    void ofBytesRoundsDownButKeepsOne() {
        assertEquals(0, BufferPool.ofBytes(4096, 1000).outstanding());
        BufferPool p = BufferPool.ofBytes(4096, 10_000);
        p.acquire().block();
        p.acquire().block();
        AtomicReference<ByteBuffer> third = new AtomicReference<>();
        p.acquire().subscribe(third::set);
        assertNull(third.get(), "10000 bytes hold two 4096-byte buffers, not three");
    }

    @Test
    void buffersAreAdjacentZeroFilledPiecesOfOneSlab() {
        int size = 256 << 10;
        BufferPool pool = new BufferPool(size, 16);
        List<ByteBuffer> held = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            ByteBuffer b = pool.acquire().block(Duration.ofSeconds(1));
            assertTrue(b.isDirect());
            assertEquals(size, b.capacity());
            for (int at = 0; at < size; at += 4096) {
                assertEquals(0, b.get(at), "fresh buffer memory must read as zeros");
            }
            held.add(b);
        }
        long first = MemorySegment.ofBuffer(held.get(0)).address();
        for (int i = 0; i < held.size(); i++) {
            assertEquals(first + (long) i * size, MemorySegment.ofBuffer(held.get(i)).address(),
                    "buffer " + i + " is not cut from the pool's slab");
        }
        // each buffer is its own memory: filling one leaves its neighbours alone
        for (int i = 0; i < held.size(); i++) {
            ByteBuffer b = held.get(i);
            while (b.hasRemaining()) {
                b.put((byte) (i + 1));
            }
        }
        for (int i = 0; i < held.size(); i++) {
            ByteBuffer b = held.get(i);
            assertEquals(i + 1, b.get(0));
            assertEquals(i + 1, b.get(size - 1));
        }
    }
}
