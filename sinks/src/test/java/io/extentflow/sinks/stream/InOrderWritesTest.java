package io.extentflow.sinks.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Requests that arrive in any order leave in offset order, one at a time; the first failure fails the rest. */
class InOrderWritesTest {

    private static final long WAIT_SECONDS = 30;

    /** What the output was handed, in the order it was handed it. */
    private final List<String> written = Collections.synchronizedList(new ArrayList<>());

    private static Throwable failureOf(CompletableFuture<Void> request) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> request.get(WAIT_SECONDS, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void requestsWaitForEverythingBeforeThemAndLeaveInOffsetOrder() throws Exception {
        InOrderWrites writes = new InOrderWrites("test", 30,
                (offset, length, data) -> written.add(offset + "+" + length + (data == null ? " zeros" : " data")));

        CompletableFuture<Void> last = writes.enqueue(20, 10, null).toFuture();
        CompletableFuture<Void> middle = writes.enqueue(10, 10, ByteBuffer.allocate(10)).toFuture();
        // nothing continues the output yet: both wait, and nothing is written
        assertFalse(last.isDone());
        assertFalse(middle.isDone());
        assertEquals(new InOrderWrites.Reached(0, true), writes.reached());

        writes.enqueue(0, 10, ByteBuffer.allocate(10)).toFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
        middle.get(WAIT_SECONDS, TimeUnit.SECONDS);
        last.get(WAIT_SECONDS, TimeUnit.SECONDS);

        assertEquals(List.of("0+10 data", "10+10 data", "20+10 zeros"), written);
        assertEquals(new InOrderWrites.Reached(30, false), writes.reached());
    }

    @Test
    void aFailedWriteFailsItAndEveryRequestWaitingOrToCome() throws Exception {
        IOException broken = new IOException("broken pipe");
        InOrderWrites writes = new InOrderWrites("test", 40, (offset, length, data) -> {
            if (offset == 10) {
                throw broken;
            }
            written.add(Long.toString(offset));
        });

        CompletableFuture<Void> waiting = writes.enqueue(20, 10, null).toFuture();
        CompletableFuture<Void> failing = writes.enqueue(10, 10, null).toFuture();
        writes.enqueue(0, 10, null).toFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);

        assertSame(broken, failureOf(failing));
        assertSame(broken, failureOf(waiting));
        assertSame(broken, failureOf(writes.enqueue(30, 10, null).toFuture()));
        assertSame(broken, assertThrows(IOException.class, writes::reached));
        assertEquals(List.of("0"), written);
    }

    @Test
    void requestsOutsideTheImageAlreadyWrittenOrTooEarlyAreRefused() throws Exception {
        boolean[] ready = {false};
        InOrderWrites writes = new InOrderWrites("test", 20, new InOrderWrites.Output() {
            @Override
            public void write(long offset, long length, ByteBuffer data) {
                written.add(Long.toString(offset));
            }

            @Override
            public RuntimeException notReady() {
                return ready[0] ? null : new IllegalStateException("not laid out yet");
            }
        });

        Throwable early = failureOf(writes.enqueue(0, 10, null).toFuture());
        assertEquals("not laid out yet", early.getMessage());

        ready[0] = true;
        Throwable outside = failureOf(writes.enqueue(15, 10, null).toFuture());
        assertTrue(outside instanceof ImageIoException, outside.toString());
        writes.enqueue(0, 10, null).toFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
        Throwable again = failureOf(writes.enqueue(0, 10, null).toFuture());
        assertTrue(again.getMessage().contains("already written"), again.getMessage());

        assertEquals(List.of("0"), written);
        assertEquals(new InOrderWrites.Reached(10, false), writes.reached());
    }

    @Test
    void anUnknownSizeTakesRequestsAtAnyOffset() throws Exception {
        InOrderWrites writes = new InOrderWrites("test", ImageSource.UNKNOWN_SIZE,
                (offset, length, data) -> written.add(Long.toString(offset)));
        writes.enqueue(0, 1L << 40, null).toFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(List.of("0"), written);
    }
}
