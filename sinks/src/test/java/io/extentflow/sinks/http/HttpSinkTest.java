package io.extentflow.sinks.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.imageio.FakeImageioServer;
import io.extentflow.engine.testing.Await;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** The HTTP sink against servers lacking features (our own server is covered in samples). */
class HttpSinkTest {

    private static final Duration T = Duration.ofSeconds(30);
    private static final int SIZE = 1 << 20;

    private static byte[] ones() {
        byte[] b = new byte[SIZE];
        Arrays.fill(b, (byte) 1);
        return b;
    }

    @Test
    void withoutZeroFeatureZerosAreWritten() {
        var zeroless = new FakeImageioServer.Behaviour(List.of("extents", "flush"), false, false, 2);
        try (FakeImageioServer fake = new FakeImageioServer(ones(), List.of(Extent.data(0, SIZE)), zeroless);
             HttpSink sink = HttpSink.open(fake.url(), SIZE, EndpointOptions.defaults()).block(T)) {
            sink.zero(4096, 300_000).block(T);
            sink.write(0, ByteBuffer.wrap(new byte[] {7, 7})).block(T);
            sink.flush().block(T);
            assertEquals(1, fake.requests("PATCH"), "only the flush is a PATCH");
            assertEquals(1, fake.flushes(), "PUTs carry flush=n, one PATCH flush at the end");
            byte[] img = fake.image();
            assertArrayEquals(new byte[300_000], Arrays.copyOfRange(img, 4096, 304_096));
            assertEquals(1, img[4095]);
            assertEquals(1, img[304_096]);
            assertEquals(7, img[1]);
            assertEquals(2, sink.capabilities().connections());
        }
    }

    @Test
    void withoutFlushFeatureEveryRequestFlushes() {
        var flushless = new FakeImageioServer.Behaviour(List.of("extents", "zero"), false, false, 1);
        try (FakeImageioServer fake = new FakeImageioServer(ones(), List.of(Extent.data(0, SIZE)), flushless);
             HttpSink sink = HttpSink.open(fake.url(), SIZE, EndpointOptions.defaults()).block(T)) {
            sink.write(0, ByteBuffer.wrap(new byte[] {7})).block(T);
            sink.write(10, ByteBuffer.wrap(new byte[] {7})).block(T);
            sink.zero(100, 100).block(T);
            sink.flush().block(T);
            assertEquals(2, fake.flushes(), "each PUT asked flush=y");
            assertEquals(1, fake.requests("PATCH"), "the zero, no flush PATCH");
            assertEquals(0, fake.image()[150]);
        }
    }

    @Test
    void readOnlyTicketIsRefusedAtOpen() {
        var ro = new FakeImageioServer.Behaviour(List.of("extents"), true, false, 2);
        try (FakeImageioServer fake = new FakeImageioServer(ones(), List.of(Extent.data(0, SIZE)), ro)) {
            ImageIoException e = assertThrows(ImageIoException.class,
                    () -> HttpSink.open(fake.url(), SIZE, EndpointOptions.defaults()).block(T));
            assertTrue(e.getMessage().contains("the ticket does not allow writing (Allow: OPTIONS,GET)"),
                    e.getMessage());
        }
    }

    @Test
    void tooSmallTicketIsRefusedAtOpen() {
        var b = new FakeImageioServer.Behaviour(List.of("extents", "zero", "flush"), true, false, 2);
        try (FakeImageioServer fake = new FakeImageioServer(ones(), List.of(Extent.data(0, SIZE)), b)) {
            ImageIoException e = assertThrows(ImageIoException.class,
                    () -> HttpSink.open(fake.url(), SIZE + 1, EndpointOptions.defaults()).block(T));
            assertTrue(e.getMessage().contains("the ticket holds " + SIZE + " bytes"), e.getMessage());
        }
    }

    @Test
    void asksOptionsWhileTheSizeIsStillToCome() throws Exception {
        var b = new FakeImageioServer.Behaviour(List.of("extents", "zero", "flush"), false, false, 2);
        try (FakeImageioServer fake = new FakeImageioServer(ones(), List.of(Extent.data(0, SIZE)), b)) {
            Sinks.One<Long> size = Sinks.one();
            CompletableFuture<HttpSink> opening = HttpSink.open(fake.url(), size.asMono(), EndpointOptions.defaults())
                    .toFuture();
            Await.until(T, "OPTIONS before the size is known", () -> fake.requests("OPTIONS") == 1);
            assertFalse(opening.isDone(), "the sink waits for the size");
            size.tryEmitValue((long) SIZE);
            try (HttpSink sink = opening.get(T.toSeconds(), TimeUnit.SECONDS)) {
                assertEquals(SIZE, sink.size());
            }
        }
    }

    @Test
    void aSizeThatFailsFailsTheOpening() {
        var b = new FakeImageioServer.Behaviour(List.of("extents", "zero", "flush"), false, false, 2);
        try (FakeImageioServer fake = new FakeImageioServer(ones(), List.of(Extent.data(0, SIZE)), b)) {
            Mono<Long> size = Mono.error(new IllegalStateException("the source could not be opened"));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> HttpSink.open(fake.url(), size, EndpointOptions.defaults()).block(T));
            assertEquals("the source could not be opened", e.getMessage());
        }
    }
}
