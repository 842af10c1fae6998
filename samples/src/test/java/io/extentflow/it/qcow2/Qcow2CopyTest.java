package io.extentflow.it.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.sinks.file.RawFileSink;
import io.extentflow.sources.ChainOptions;
import io.extentflow.sources.qcow2.Qcow2Source;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * qcow2 to raw file end to end: {@link Endpoints#source} (format by magic) through {@link Copy} into
 * a {@link RawFileSink}, compared byte for byte with {@code qemu-img convert -O raw}.
 */
@Timeout(120)
class Qcow2CopyTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @Test
    void compressedZstdImage() throws IOException {
        Path raw = randomRaw("content.raw", SIZE, 1);
        Path img = dir.resolve("z.qcow2");
        run("qemu-img", "convert", "-q", "-c", "-O", "qcow2", "-o", "compression_type=zstd", raw.toString(), img.toString());
        run("qemu-io", "-f", "qcow2", "-c", "write -z 1M 256k", "-c", "write -P 7 3M 100k", img.toString());
        CopyResult r = copyAndCompare(img, EndpointOptions.defaults());
        assertTrue(r.dataBytes() > 0 && r.dataBytes() < SIZE, "only data moved: " + r);
    }

    @Test
    void zlibImageWithSmallClusters() throws IOException {
        Path raw = randomRaw("content.raw", SIZE, 2);
        Path img = dir.resolve("z.qcow2");
        run("qemu-img", "convert", "-q", "-c", "-O", "qcow2", "-o", "cluster_size=4096", raw.toString(), img.toString());
        copyAndCompare(img, EndpointOptions.defaults());
    }

    @Test
    void chainOverShorterUnalignedRawBacking() throws IOException {
        randomRaw("base.raw", SIZE / 2 + 1000, 3);
        Path mid = dir.resolve("mid.qcow2");
        Path top = dir.resolve("top.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", mid.toString(), Long.toString(SIZE * 3 / 4));
        run("qemu-io", "-f", "qcow2", "-c", "write -P 1 100k 300k", "-c", "write -z 2M 1M", mid.toString());
        run("qemu-img", "create", "-q", "-f", "qcow2", "-o", "extended_l2=on", "-b", "mid.qcow2", "-F", "qcow2",
                top.toString(), Long.toString(SIZE));
        run("qemu-io", "-f", "qcow2", "-c", "write -P 2 4k 8k", "-c", "write -z 2500k 64k", "-c", "write -c -P 3 6M 64k",
                top.toString());
        copyAndCompare(top, EndpointOptions.defaults());
    }

    /**
     * The top layer alone, copied onto a raw copy of its backing file: the ranges it leaves to its
     * backing are holes without zero, so the copy skips them and the result is the whole image.
     */
    @Test
    void topLayerOnlyOntoItsBacking() throws IOException {
        Path base = randomRaw("base.raw", SIZE, 4);
        Path top = dir.resolve("top.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", top.toString());
        run("qemu-io", "-f", "qcow2", "-c", "write -P 9 64k 200k", "-c", "write -z 1M 1M", "-c", "write -z -u 4M 64k",
                top.toString());
        Path target = dir.resolve("target.raw");
        Files.copy(base, target, StandardCopyOption.REPLACE_EXISTING);
        CopyResult r;
        try (ImageSource source = Endpoints.source(top.toString(), EndpointOptions.defaults().with(ChainOptions.TOP_LAYER_ONLY, true))
                .block(TIMEOUT);
             ImageSink sink = RawFileSink.open(target, source.size()).block(TIMEOUT)) {
            r = Copy.from(source).to(sink).options(CopyOptions.defaults()).run().block(TIMEOUT);
        }
        assertTrue(r.skippedBytes() >= SIZE - (2L << 20) - (200L << 10), "backing ranges skipped: " + r);
        assertSame(expected(top), target);
    }

    private CopyResult copyAndCompare(Path image, EndpointOptions options) throws IOException {
        Path target = dir.resolve("copy.raw");
        Files.deleteIfExists(target);
        CopyResult r;
        try (ImageSource source = Endpoints.source(image.toString(), options).block(TIMEOUT);
             ImageSink sink = RawFileSink.open(target, source.size()).block(TIMEOUT)) {
            assertTrue(source instanceof Qcow2Source, "qcow2 found by magic: " + source);
            r = Copy.from(source).to(sink).options(CopyOptions.defaults().withRequestSize(1 << 20)).run().block(TIMEOUT);
        }
        assertEquals(Files.size(expected(image)), r.size());
        assertSame(expected(image), target);
        return r;
    }

    private Path expected(Path image) {
        Path out = dir.resolve("expected.raw");
        run("qemu-img", "convert", "-q", "-O", "raw", image.toString(), out.toString());
        return out;
    }

    /** A sparse raw file: random 64 KiB..512 KiB runs of data, zeros and holes. */
    private Path randomRaw(String name, long size, long seed) throws IOException {
        Path p = dir.resolve(name);
        SplittableRandom rnd = new SplittableRandom(seed);
        try (FileChannel ch = FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            long pos = 0;
            while (pos < size) {
                int len = (int) Math.min(size - pos, (64 << 10) * (1 + rnd.nextInt(8)));
                int kind = rnd.nextInt(3);
                if (kind > 0) {
                    byte[] b = new byte[len];
                    if (kind == 1) {
                        rnd.nextBytes(b);
                        for (int i = 0; i < len; i += 2) {
                            b[i] = 'x'; // half compressible
                        }
                    }
                    ch.write(ByteBuffer.wrap(b), pos);
                }
                pos += len;
            }
            ch.truncate(size);
            if (ch.size() < size) {
                ch.write(ByteBuffer.allocate(1), size - 1);
            }
        }
        return p;
    }

    private static void assertSame(Path expected, Path actual) throws IOException {
        assertEquals(Files.size(expected), Files.size(actual), "size");
        long at = Files.mismatch(expected, actual);
        assertEquals(-1L, at, actual + " differs from " + expected + " at offset " + at);
    }

    private static void run(String... command) {
        ExternalTool.check(command);
    }
}
