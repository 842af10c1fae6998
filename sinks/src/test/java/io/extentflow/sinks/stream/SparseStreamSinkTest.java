package io.extentflow.sinks.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.BaseSubscriber;

/**
 * A slow reader of a sparse stream slows the copy down; buffers stay within the copy's bound. A
 * fragmented image's frames written with one gathering call each give the same stream as written
 * buffer by buffer.
 */
class SparseStreamSinkTest {

    @TempDir
    Path dir;

    @Test
    void gatheredFramesMakeTheSameStreamAsFramesWrittenOneBufferAtATime() throws Exception {
        int size = 16 << 20;
        byte[] bytes = new byte[size];
        SplittableRandom rnd = new SplittableRandom(27);
        List<Extent> extents = new ArrayList<>();
        for (int at = 0; at < size; at += 128 << 10) {
            byte[] run = new byte[64 << 10];
            rnd.nextBytes(run);
            System.arraycopy(run, 0, bytes, at, run.length);
            extents.add(Extent.data(at, 64 << 10));
            // holes and zero extents in turn, so zero runs of both kinds precede data frames
            extents.add(at % (256 << 10) == 0 ? Extent.hole(at + (64 << 10), 64 << 10)
                    : Extent.zero(at + (64 << 10), 64 << 10));
        }
        Path file = dir.resolve("frag.sparse");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            copy(bytes, extents, new SparseStreamSink(ch, true, "file", size)); // gathers (writev)
        }
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        copy(bytes, extents, new SparseStreamSink(Channels.newChannel(plain), false, "plain", size));

        byte[] gathered = Files.readAllBytes(file);
        assertTrue(gathered.length > size / 2, "every data byte is in the stream: " + gathered.length);
        assertArrayEquals(plain.toByteArray(), gathered);
    }

    private static void copy(byte[] bytes, List<Extent> extents, SparseStreamSink sink) {
        CopyResult r = Copy.from(MemoryImage.source(bytes, extents)).to(sink)
                .options(CopyOptions.defaults().withRequestSize(1 << 20))
                .run().block(Duration.ofSeconds(60));
        assertEquals(bytes.length, r.size());
    }

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
