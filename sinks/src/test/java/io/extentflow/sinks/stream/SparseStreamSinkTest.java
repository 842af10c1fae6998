package io.extentflow.sinks.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.io.ByteBufOutputChannel;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.MemoryImage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.BaseSubscriber;

/** A slow reader of a sparse stream slows the copy down; buffers stay within the copy's bound. */
class SparseStreamSinkTest {

    @Test
    void aReaderThatStopsReadingStopsTheCopyAtItsBound() {
        int size = 48 << 20;
        MemoryImage src = MemoryImage.source(new byte[size], List.of(Extent.data(0, size)));
        new SplittableRandom(1).nextBytes(src.bytes());
        ByteBufOutputChannel out = new ByteBufOutputChannel();
        SparseStreamSink sink = new SparseStreamSink(out, false, "test", size);
        long maxInFlight = 4L << 20;
        SimpleMeterRegistry registry = new SimpleMeterRegistry();

        AtomicLong received = new AtomicLong();
        BaseSubscriber<ByteBuf> reader = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(org.reactivestreams.Subscription s) {
                s.request(1); // one chunk, then nothing until asked
            }

            @Override
            protected void hookOnNext(ByteBuf b) {
                received.addAndGet(b.readableBytes());
                b.release();
            }
        };
        out.body().subscribe(reader);
        AtomicReference<CopyResult> result = new AtomicReference<>();
        Copy.from(src).to(sink).metrics(registry)
                .options(CopyOptions.defaults().withRequestSize(1 << 20).withMaxInFlight(maxInFlight))
                .run().subscribe(result::set);
        // the copy fills its buffers and then waits for the reader: nothing more is read or held
        Await.until(Duration.ofSeconds(20), "the copy holds all its buffers",
                () -> registry.get("extentflow.copy.inflight.bytes").gauge().value() == maxInFlight);
        int readsWhenStalled = src.reads();
        assertTrue(readsWhenStalled * (1L << 20) <= maxInFlight + (2L << 20),
                "read " + readsWhenStalled + " MiB while the reader took one chunk");
        assertEquals(null, result.get(), "the copy finished without a reader");

        reader.request(Long.MAX_VALUE);
        Await.until(Duration.ofSeconds(30), "the copy finishes once the reader reads", () -> result.get() != null);
        assertTrue(result.get().peakBytesInFlight() <= maxInFlight);
        // every data byte, plus frame headers and terminators, reached the reader
        Await.until(Duration.ofSeconds(10), "everything delivered", () -> received.get() >= size);
        assertEquals(size, src.size());
    }
}
