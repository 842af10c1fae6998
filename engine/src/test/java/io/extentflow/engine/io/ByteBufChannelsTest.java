package io.extentflow.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import io.extentflow.engine.testing.Await;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class ByteBufChannelsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** Emits the chunk and releases it once its subscriber has had it, as Reactor Netty does with bodies. */
    static Mono<ByteBuf> releasedAfterDelivery(ByteBuf b) {
        return Mono.just(b).doFinally(s -> b.release());
    }

    @Test
    void aBodyReadsBackAsTheSameBytesWithBoundedReadAhead() {
        byte[] data = random(1_000_000, 1);
        AtomicInteger maxAhead = new AtomicInteger();
        AtomicInteger delivered = new AtomicInteger();
        // chunks are released after delivery, as Reactor Netty does with received bodies
        Flux<ByteBuf> body = Flux.range(0, 100)
                .map(i -> Unpooled.wrappedBuffer(data, i * 10_000, 10_000))
                .concatMap(ByteBufChannelsTest::releasedAfterDelivery, 1)
                .doOnNext(b -> delivered.incrementAndGet());
        byte[] got = Mono.fromCallable(() -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (ByteBufInputChannel ch = new ByteBufInputChannel(body)) {
                ByteBuffer buf = ByteBuffer.allocate(3000);
                int consumedChunks = 0;
                for (int n = ch.read(buf); n >= 0; n = ch.read(buf)) {
                    out.write(buf.array(), 0, buf.position());
                    buf.clear();
                    consumedChunks = out.size() / 10_000;
                    maxAhead.accumulateAndGet(delivered.get() - consumedChunks, Math::max);
                }
            }
            return out.toByteArray();
        }).subscribeOn(StreamThreads.scheduler()).block(TIMEOUT);
        assertArrayEquals(data, got);
        // the chunk being read and at most PREFETCH more: the body is not read far ahead of the reader
        assertTrue(maxAhead.get() <= ByteBufInputChannel.PREFETCH + 1,
                "received " + maxAhead.get() + " chunks ahead of the reader");
    }

    @Test
    void anErrorInTheBodyIsAnIoExceptionForTheReader() {
        Flux<ByteBuf> body = Flux.concat(Flux.just(Unpooled.wrappedBuffer(new byte[10])).concatMap(ByteBufChannelsTest::releasedAfterDelivery),
                Flux.error(new IllegalStateException("connection reset")));
        StepVerifier.create(Mono.fromCallable(() -> {
            try (ByteBufInputChannel ch = new ByteBufInputChannel(body)) {
                ByteBuffer buf = ByteBuffer.allocate(100);
                while (ch.read(buf) >= 0) {
                    buf.clear();
                }
            }
            return 0;
        }).subscribeOn(StreamThreads.scheduler())).expectErrorSatisfies(e -> assertTrue(e instanceof IOException && e.getMessage().contains("reset")))
                .verify(TIMEOUT);
    }

    @Test
    void writesComeOutAsChunksOnlyAsFastAsTheyAreRequested() {
        byte[] data = random(3 << 20, 2);
        ByteBufOutputChannel ch = new ByteBufOutputChannel();
        Mono<Void> writer = Mono.fromCallable(() -> {
            for (int i = 0; i < data.length; i += 500_000) {
                ch.write(ByteBuffer.wrap(data, i, Math.min(500_000, data.length - i)));
            }
            ch.close();
            return true;
        }).subscribeOn(StreamThreads.scheduler()).then();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StepVerifier.create(ch.body().doOnSubscribe(s -> writer.subscribe()), 0)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(50))
                .thenRequest(1)
                .assertNext(b -> {
                    // small writes are gathered into 1 MiB chunks
                    assertEquals(1 << 20, b.readableBytes());
                    b.release();
                })
                .thenRequest(Long.MAX_VALUE)
                .thenConsumeWhile(b -> {
                    byte[] bytes = new byte[b.readableBytes()];
                    b.readBytes(bytes);
                    out.writeBytes(bytes);
                    b.release();
                    return true;
                })
                .verifyComplete();
        assertEquals(data.length - (1 << 20), out.size());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 1 << 20, data.length), out.toByteArray());
    }

    @Test
    void aCancelledBodyFailsTheWriter() {
        ByteBufOutputChannel ch = new ByteBufOutputChannel();
        ch.body().take(1).doOnNext(ByteBuf::release).subscribe();
        StepVerifier.create(Mono.fromCallable(() -> {
            for (int i = 0; i < 10; i++) {
                ch.write(ByteBuffer.wrap(new byte[1 << 20]));
            }
            return true;
        }).subscribeOn(StreamThreads.scheduler())).expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("went away"), e.getMessage()))
                .verify(TIMEOUT);
    }

    @Test
    void closingTheInputWakesAReaderWaitingForTheBody() throws Exception {
        // a copy that is cancelled closes its stream: a pump thread waiting for a body that never
        // ends must come back, or every cancelled stream would keep one stream thread forever
        ByteBufInputChannel ch = new ByteBufInputChannel(Flux.never());
        java.util.concurrent.CompletableFuture<Thread> readerThread = new java.util.concurrent.CompletableFuture<>();
        Mono<Integer> reader = Mono.fromCallable(() -> {
            readerThread.complete(Thread.currentThread());
            return ch.read(ByteBuffer.allocate(100));
        }).subscribeOn(StreamThreads.scheduler());
        StepVerifier.create(reader)
                .then(() -> {
                    // close only once the reader is parked inside read(), waiting for the body:
                    // that is the wait the close must end (a close before read() is another case)
                    Thread t = readerThread.orTimeout(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS).join();
                    long deadline = System.nanoTime() + TIMEOUT.toNanos();
                    while (t.getState() != Thread.State.WAITING) {
                        assertTrue(System.nanoTime() < deadline, "the reader never waited: " + t.getState());
                        Thread.onSpinWait();
                    }
                    ch.close();
                })
                .expectErrorSatisfies(e -> assertTrue(e instanceof java.nio.channels.AsynchronousCloseException, e.toString()))
                .verify(TIMEOUT);
    }

    @Test
    void aCloseFromAnotherThreadWaitsForTheChunkBeingHandedOver() throws Exception {
        ByteBufOutputChannel out = new ByteBufOutputChannel();
        List<Object> got = new CopyOnWriteArrayList<>();
        BaseSubscriber<ByteBuf> reader = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription s) {
                // no demand yet: the writer waits in its hand-over
            }

            @Override
            protected void hookOnNext(ByteBuf chunk) {
                got.add(chunk.readableBytes());
                chunk.release();
            }

            @Override
            protected void hookOnComplete() {
                got.add("complete");
            }
        };
        out.body().subscribe(reader);
        Thread writer = Thread.ofPlatform().start(() -> {
            try {
                out.write(ByteBuffer.wrap(new byte[10]));
                out.flush();
            } catch (IOException e) {
                got.add(e);
            }
        });
        Await.until(TIMEOUT, "the writer waiting for demand", () -> writer.getState() == Thread.State.WAITING);
        // the copy's completion closes the channel from another thread
        Thread closer = Thread.ofPlatform().start(out::close);
        Await.until(TIMEOUT, "the close waiting for the writer", () -> closer.getState() == Thread.State.BLOCKED);
        reader.request(Long.MAX_VALUE);
        writer.join(TIMEOUT.toMillis());
        closer.join(TIMEOUT.toMillis());
        assertEquals(List.of(10, "complete"), got, "the chunk, then the end of the body");
    }
    /**
     * A sink's close aborts its body, and may run twice or after the body ended (issue 20: the
     * second wake-up overflowed a semaphore, {@code Error: Maximum permit count exceeded}, thrown at
     * the user after a copy's summary). The body ends once, by what came first.
     */
    @Test
    void closeAndAbortInAnyNumberEndTheBodyOnceAndNeverThrow() throws Exception {
        ByteBufOutputChannel ch = new ByteBufOutputChannel();
        AtomicInteger bytes = new AtomicInteger();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        AtomicInteger completions = new AtomicInteger();
        // an unbounded request: the most demand a subscriber can give
        ch.body().subscribe(b -> {
            bytes.addAndGet(b.readableBytes());
            b.release();
        }, errors::add, completions::incrementAndGet);
        ch.write(ByteBuffer.wrap(random(100, 3)));
        ch.close();
        ch.abort(new IOException("closed after the end"));
        ch.abort(new IOException("closed again"));
        ch.close();
        assertEquals(100, bytes.get());
        assertEquals(1, completions.get());
        assertEquals(List.of(), errors);
    }

    @Test
    void anAbortWakesAWriterWaitingForDemandAndFailsTheBodyWithItsCause() {
        ByteBufOutputChannel ch = new ByteBufOutputChannel();
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        // subscribed, but asks for nothing: a writer handing over a full chunk waits
        ch.body().subscribe(new BaseSubscriber<ByteBuf>() {
            @Override
            protected void hookOnSubscribe(Subscription s) {
            }

            @Override
            protected void hookOnError(Throwable e) {
                errors.add(e);
            }
        });
        java.util.concurrent.atomic.AtomicReference<Thread> writerThread = new java.util.concurrent.atomic.AtomicReference<>();
        var written = Mono.<Void>fromCallable(() -> {
            writerThread.set(Thread.currentThread());
            ch.write(ByteBuffer.wrap(random(2 << 20, 4)));
            return null;
        }).subscribeOn(StreamThreads.scheduler()).toFuture();
        Await.until(TIMEOUT, "the writer to wait for demand", () -> writerThread.get() != null
                && writerThread.get().getState() == Thread.State.WAITING);
        IOException cause = new IOException("the server answered 403");
        ch.abort(cause);
        var failure = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
                () -> written.get(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(failure.getCause() instanceof IOException && failure.getCause().getMessage().contains("403"),
                failure.toString());
        ch.abort(new IOException("a second abort"));
        ch.close();
        assertEquals(List.of(cause), errors);
    }
}
