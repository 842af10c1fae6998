package io.extentflow.sources.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.testing.MemoryImage;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.test.StepVerifier;

/**
 * Streams built byte by byte from the format text, read by both stream sources: the indexed
 * {@code .sparse} file and the sequential pipe reader.
 */
class SparseStreamSourcesTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /** Builds a stream by hand: frames as the format text describes them. */
    static final class StreamBuilder {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        StreamBuilder raw(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        StreamBuilder data(long start, byte[] payload) {
            raw(String.format("data %016x %016x\r\n", start, (long) payload.length));
            out.writeBytes(payload);
            return raw("\r\n");
        }

        StreamBuilder zero(long start, long length) {
            return raw(String.format("zero %016x %016x\r\n", start, length));
        }

        StreamBuilder stop() {
            return raw("stop 0000000000000000 0000000000000000\r\n");
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** Opens the stream both ways. */
    enum Kind { FILE, PIPE }

    ImageSource open(Kind kind, byte[] stream) throws Exception {
        if (kind == Kind.FILE) {
            Path p = Files.write(dir.resolve("s.sparse"), stream);
            return SparseFileSource.open(p).block(TIMEOUT);
        }
        return new SparseStreamSource(Channels.newChannel(new java.io.ByteArrayInputStream(stream)), "pipe");
    }

    /** Copies a stream source into memory; the image size comes from the stream. */
    static byte[] copyToMemory(ImageSource src, int capacity) {
        // a file knows its size; a pipe's size is known only at its end, so it goes into a larger target
        MemoryImage sink = MemoryImage.sink(src.size() >= 0 ? (int) src.size() : capacity, true);
        CopyResult r = Copy.from(src).to(sink).options(CopyOptions.defaults().withRequestSize(8192)).run()
                .block(TIMEOUT);
        byte[] image = new byte[(int) r.size()];
        System.arraycopy(sink.bytes(), 0, image, 0, image.length);
        return image;
    }

    @ParameterizedTest
    @ValueSource(strings = {"FILE", "PIPE"})
    void readsFramesThatSplitOneExtentAndLeaveGaps(String kind) throws Exception {
        byte[] a = random(10_000, 1);
        byte[] b = random(5_000, 2);
        byte[] c = random(3, 3);
        // one data extent cut into two frames, a zero frame, a gap (reads as zero), a tiny last frame
        byte[] stream = new StreamBuilder().data(0, a).data(10_000, b).zero(15_000, 20_000).data(40_000, c)
                .stop().bytes();
        byte[] expected = new byte[40_003];
        System.arraycopy(a, 0, expected, 0, a.length);
        System.arraycopy(b, 0, expected, 10_000, b.length);
        System.arraycopy(c, 0, expected, 40_000, c.length);
        try (ImageSource src = open(Kind.valueOf(kind), stream)) {
            assertArrayEquals(expected, copyToMemory(src, 64 << 10));
        }
    }

    @Test
    void theIndexedFileGivesMergedExtentsAndRandomReads() throws Exception {
        byte[] a = random(4096, 4);
        byte[] stream = new StreamBuilder().data(0, a).data(4096, a).zero(8192, 4096).stop().bytes();
        try (ImageSource src = open(Kind.FILE, stream)) {
            assertEquals(12288, src.size());
            assertEquals(List.of(Extent.data(0, 8192), Extent.zero(8192, 4096)),
                    src.extents(0, 12288).collectList().block(TIMEOUT));
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(200);
            src.read(4000, buf).block(TIMEOUT);
            assertEquals(a[4000], buf.get(0));
            assertEquals(a[0], buf.get(96));
        }
    }

    @Test
    void anEmptyImageIsJustAStopFrame() throws Exception {
        for (Kind k : Kind.values()) {
            try (ImageSource src = open(k, new StreamBuilder().stop().bytes())) {
                assertEquals(0, copyToMemory(src, 16).length);
            }
        }
    }

    static void assertBadStream(ImageSource src, String... fragments) {
        StepVerifier.create(Copy.from(src).to(MemoryImage.sink(1 << 20, true)).run())
                .expectErrorSatisfies(e -> {
                    for (String f : fragments) {
                        assertTrue(e.getMessage().contains(f), "'" + f + "' not in: " + e.getMessage());
                    }
                })
                .verify(TIMEOUT);
    }

    static final byte[] A = random(100, 9);

    static Object[][] badStreams() {
        byte[] good = new StreamBuilder().data(0, A).zero(100, 100).stop().bytes();
        return new Object[][] {
            {"truncated payload", java.util.Arrays.copyOf(good, 90), new String[] {"truncated", "stream offset 0"}},
            {"truncated header", java.util.Arrays.copyOf(good, 150), new String[] {"stream offset 142"}},
            {"missing stop", java.util.Arrays.copyOf(good, 182), new String[] {"without a stop frame",
                "stream offset 182"}},
            {"bad header", new StreamBuilder().raw("dat  0000000000000000 0000000000000010\r\n").bytes(),
                new String[] {"stream offset 0"}},
            {"bad hex", new StreamBuilder().data(0, A).raw("zero 00000000000000x4 0000000000000010\r\n").stop().bytes(),
                new String[] {"bad hex digit 'x'", "stream offset 142"}},
            {"missing terminator", new StreamBuilder().raw(String.format("data %016x %016x\r\n", 0, 100))
                .raw(new String(new byte[100], StandardCharsets.ISO_8859_1)).raw("XX").stop().bytes(),
                new String[] {"missing its \\r\\n terminator", "stream offset 140"}},
            {"out of order", new StreamBuilder().zero(1000, 10).data(0, A).stop().bytes(),
                new String[] {"out of order", "stream offset 40"}},
            {"overlapping", new StreamBuilder().data(0, A).zero(50, 100).stop().bytes(),
                new String[] {"overlapping", "stream offset 142", "ended at image offset 100"}},
        };
    }

    @Test
    void badStreamsFailWithTheStreamOffsetAndFrame() throws Exception {
        for (Object[] c : badStreams()) {
            for (Kind k : Kind.values()) {
                try (ImageSource src = open(k, (byte[]) c[1])) {
                    assertBadStream(src, (String[]) c[2]);
                } catch (io.extentflow.engine.sparse.SparseStreamException e) {
                    // the indexed file finds the fault when it opens
                    for (String f : (String[]) c[2]) {
                        assertTrue(e.getMessage().contains(f), c[0] + ": '" + f + "' not in: " + e.getMessage());
                    }
                } catch (RuntimeException e) {
                    Throwable cause = reactor.core.Exceptions.unwrap(e);
                    for (String f : (String[]) c[2]) {
                        assertTrue(cause.getMessage().contains(f), c[0] + " (" + k + "): '" + f + "' not in: "
                                + cause.getMessage());
                    }
                }
            }
        }
    }

    @Test
    void aStreamPastTheTargetSizeFails() throws Exception {
        byte[] stream = new StreamBuilder().data(0, A).zero(100, 1 << 20).stop().bytes();
        try (ImageSource src = open(Kind.PIPE, stream)) {
            StepVerifier.create(Copy.from(src).to(MemoryImage.sink(1000, false)).run())
                    .expectError()
                    .verify(TIMEOUT);
        }
    }
}
