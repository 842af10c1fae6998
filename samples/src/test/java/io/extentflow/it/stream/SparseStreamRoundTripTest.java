package io.extentflow.it.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sinks.stream.SparseStreamSink;
import io.extentflow.sources.stream.SparseStreamSource;
import java.io.DataInputStream;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Images through sparse streams (a .sparse file, a pipe) and back, compared byte for byte. */
class SparseStreamRoundTripTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    static CopyResult copy(String from, String to, CopyOptions options) {
        ImageSource src = Endpoints.source(from).block(TIMEOUT);
        try (src; ImageSink dst = Endpoints.sink(to, src.size()).block(TIMEOUT)) {
            return Copy.from(src).to(dst).options(options).run().block(TIMEOUT);
        }
    }

    static long dataBytes(List<TestImages.Run> runs) {
        return runs.stream().filter(r -> !r.kind().equals("zero")).mapToLong(TestImages.Run::length).sum();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void throughASparseFileAndBack(long seed) throws Exception {
        Path raw = dir.resolve("src.raw");
        List<TestImages.Run> runs = TestImages.randomSparseRaw(raw, 40L << 20, seed, 30, 2 << 20);
        Path stream = dir.resolve("img.sparse");
        Path back = dir.resolve("back.raw");
        copy(raw.toString(), stream.toString(), CopyOptions.defaults().withRequestSize(1 << 20));
        assertTrue(Files.size(stream) < dataBytes(runs) + (1 << 20), "holes and zeros must not be in the stream");
        copy(stream.toString(), back.toString(), CopyOptions.defaults());
        TestImages.assertSameContent(raw, back);
        long data = dataBytes(runs);
        assertTrue(TestImages.allocatedBytes(back) <= data + data / 100 + 4096, "the copy back is not sparse");
    }

    @Test
    void throughAPipeIntoAFileOfUnknownSize() throws Exception {
        Path raw = dir.resolve("src.raw");
        List<TestImages.Run> runs = TestImages.randomSparseRaw(raw, 33L << 20, 7, 30, 2 << 20);
        Path back = dir.resolve("back.raw");
        Pipe pipe = Pipe.open();
        ImageSource src = Endpoints.source(raw.toString()).block(TIMEOUT);
        Mono<CopyResult> writer = Mono.defer(() -> Copy.from(src)
                        .to(new SparseStreamSink(pipe.sink(), false, "pipe", src.size()))
                        .options(CopyOptions.defaults().withRequestSize(1 << 20).withMaxInFlight(4 << 20)).run())
                .doFinally(s -> closeQuietly(pipe.sink()));
        SparseStreamSource reader = new SparseStreamSource(pipe.source(), "pipe");
        ImageSink target = Endpoints.sink(back.toString(), reader.size()).block(TIMEOUT);
        Mono<CopyResult> readerCopy = Copy.from(reader).to(target).options(CopyOptions.defaults()).run();
        List<CopyResult> both = Mono.zip(writer.subscribeOn(Schedulers.boundedElastic()),
                readerCopy.subscribeOn(Schedulers.boundedElastic()), List::of).block(TIMEOUT);
        target.close();
        src.close();
        assertEquals(33L << 20, both.get(1).size(), "the stream's size is the end of its last frame");
        TestImages.assertSameContent(raw, back);
        long data = dataBytes(runs);
        assertTrue(TestImages.allocatedBytes(back) <= data + data / 100 + 4096, "the copy back is not sparse");
    }

    @Test
    void ourStreamsParseWithAReaderWrittenFromTheFormatText() throws Exception {
        Path raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, 24L << 20, 11, 40, 3 << 20);
        Path stream = dir.resolve("img.sparse");
        int requestSize = 1 << 20;
        copy(raw.toString(), stream.toString(), CopyOptions.defaults().withRequestSize(requestSize));
        byte[] image = new byte[24 << 20];
        long covered = 0;
        boolean stopped = false;
        try (InputStream in = Files.newInputStream(stream); DataInputStream d = new DataInputStream(in)) {
            byte[] header = new byte[40];
            while (!stopped) {
                d.readFully(header);
                String h = new String(header, StandardCharsets.US_ASCII);
                assertTrue(h.matches("(data|zero|stop) [0-9a-f]{16} [0-9a-f]{16}\r\n"), h);
                String kind = h.substring(0, 4);
                long start = Long.parseLong(h.substring(5, 21), 16);
                long length = Long.parseLong(h.substring(22, 38), 16);
                switch (kind) {
                    case "data" -> {
                        assertEquals(covered, start, "frames must cover the image in order");
                        assertTrue(length <= requestSize, "data frames are split at the request size");
                        d.readFully(image, (int) start, (int) length);
                        assertEquals('\r', d.read());
                        assertEquals('\n', d.read());
                        covered += length;
                    }
                    case "zero" -> {
                        assertEquals(covered, start, "frames must cover the image in order");
                        covered += length;
                    }
                    default -> {
                        assertEquals(0, start);
                        assertEquals(0, length);
                        stopped = true;
                    }
                }
            }
            assertEquals(-1, d.read(), "nothing after the stop frame");
        }
        assertEquals(24L << 20, covered, "zero frames must cover holes up to the image size");
        assertTrue(java.util.Arrays.equals(Files.readAllBytes(raw), image));
    }

    private static void closeQuietly(java.nio.channels.Channel c) {
        try {
            c.close();
        } catch (java.io.IOException ignored) {
            // test cleanup
        }
    }
}
