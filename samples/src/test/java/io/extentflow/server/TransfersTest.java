package io.extentflow.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.imageio.Ticket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Operators;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;
import reactor.util.context.Context;

/** The transfer guard gives back every buffer, even one that races with the cut. */
class TransfersTest {

    private static TicketState ticket() {
        Ticket t = new Ticket("t", 1 << 20, "file:///nonexistent", Set.of("read"), 300, 60, false, "transfer-t", null);
        return new TicketState(t, ServerConfig.defaults(), new AtomicInteger());
    }

    @Test
    void aBufferArrivingAfterTheCancelIsReleased() {
        TicketState state = ticket();
        // a source that keeps emitting after it was cancelled, as a read finishing on another thread does
        TestPublisher<ByteBuf> reads = TestPublisher.createNoncompliant(TestPublisher.Violation.DEFER_CANCELLATION);
        AtomicBoolean cut = new AtomicBoolean();
        ByteBuf sent = Unpooled.directBuffer(16).writeLong(1);
        ByteBuf late = Unpooled.directBuffer(16).writeLong(2);

        StepVerifier.create(Transfers.guard(state, reads.flux(), () -> cut.set(true)))
                .then(() -> reads.next(sent))
                .assertNext(b -> assertEquals(1, b.readLong()))
                .then(() -> state.cancel().subscribe())
                .then(() -> reads.next(late))
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("was canceled"), e.getMessage()))
                .verify();

        assertTrue(cut.get(), "the connection is cut");
        assertEquals(0, late.refCnt(), "the buffer that came after the cancel was released");
        assertEquals(1, sent.refCnt(), "the buffer handed on belongs to its receiver");
    }

    @Test
    void theDroppedItemHookKeyIsReactors() {
        ByteBuf dropped = Unpooled.directBuffer(16);
        Operators.onNextDropped(dropped,
                Context.of(Transfers.ON_NEXT_DROPPED, (Consumer<Object>) Transfers::release));
        assertEquals(0, dropped.refCnt(), "Reactor no longer reads " + Transfers.ON_NEXT_DROPPED);
    }
}
