package io.extentflow.sources.qcow2;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.Extent;
import io.extentflow.engine.map.MapEntry;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sources.qcow2.Qcow2Fixtures.Backing;
import io.extentflow.sources.qcow2.Qcow2Fixtures.Spec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every cluster size, compression type, L2 entry width and kind of backing file (not the whole
 * cartesian product: each value of each axis and the interesting pairs). For each image, compared
 * with qemu: the contents ({@code qemu-img convert -O raw}), the map ({@code qemu-img map}, also
 * windowed), and the extents (derived from qemu's map, whole and for random unaligned windows).
 */
class Qcow2SourceMatrixTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    static Stream<Spec> specs() {
        int k = 1024;
        int m = 1024 * 1024;
        return Stream.of(
                new Spec(512, null, false, Backing.NONE, false),
                new Spec(512, "zlib", false, Backing.QCOW2, false),
                new Spec(512, "zstd", false, Backing.RAW, false),
                new Spec(512, null, false, Backing.UNALIGNED_RAW, false),
                new Spec(4 * k, null, false, Backing.QCOW2, false),
                new Spec(4 * k, "zlib", false, Backing.NONE, false),
                new Spec(4 * k, "zstd", false, Backing.SHORT_QCOW2, false),
                new Spec(4 * k, null, false, Backing.RAW, false),
                new Spec(64 * k, null, false, Backing.NONE, false),
                new Spec(64 * k, "zlib", false, Backing.RAW, false),
                new Spec(64 * k, "zstd", false, Backing.NONE, false),
                new Spec(64 * k, "zstd", true, Backing.QCOW2, false),
                new Spec(64 * k, null, true, Backing.NONE, false),
                new Spec(64 * k, "zlib", true, Backing.SHORT_QCOW2, false),
                new Spec(64 * k, null, true, Backing.UNALIGNED_RAW, false),
                new Spec(64 * k, null, false, Backing.CHAIN3, false),
                new Spec(64 * k, "zlib", false, Backing.QCOW2, true),
                new Spec(2 * m, null, false, Backing.QCOW2, false),
                new Spec(2 * m, "zstd", false, Backing.NONE, false),
                new Spec(2 * m, "zlib", true, Backing.RAW, false),
                new Spec(2 * m, null, true, Backing.SHORT_QCOW2, false),
                new Spec(2 * m, "zstd", true, Backing.UNALIGNED_RAW, false),
                new Spec(2 * m, "zlib", true, Backing.CHAIN3, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void matchesQemu(Spec spec, @TempDir Path dir) throws IOException {
        long seed = spec.toString().hashCode();
        Path image = Qcow2Fixtures.build(dir, spec, seed);
        Path expected = Qcow2Fixtures.qemuRaw(image, dir.resolve("expected.raw"));
        List<MapEntry> qemuMap = Qcow2Fixtures.qemuMap(image, -1, -1);
        SplittableRandom rnd = new SplittableRandom(seed);
        boolean hasBacking = spec.backing() != Backing.NONE;

        try (Qcow2Source source = Qcow2Source.openNow(image, false)) {
            assertEquals(spec.size(), source.size());
            Path actual = readAll(source, dir.resolve("actual.raw"), rnd);
            TestImages.assertSameContent(expected, actual);

            Qcow2Fixtures.assertSameList(qemuMap, source.map(0, source.size()).collectList().block(TIMEOUT), "map");
            for (int i = 0; i < 3; i++) {
                long start = rnd.nextLong(source.size());
                long length = 1 + rnd.nextLong(source.size());
                Qcow2Fixtures.assertSameList(Qcow2Fixtures.qemuMap(image, start, length),
                        source.map(start, length).collectList().block(TIMEOUT), "map window " + start + "+" + length);
            }

            List<Extent> whole = source.extents(0, source.size()).collectList().block(TIMEOUT);
            Qcow2Fixtures.assertSameList(Qcow2Fixtures.extentsFromMap(qemuMap, false), whole, "extents");
            for (int i = 0; i < 20; i++) {
                long start = rnd.nextLong(source.size());
                long length = 1 + rnd.nextLong(source.size() - start);
                assertEquals(slice(whole, start, start + length),
                        source.extents(start, length).collectList().block(TIMEOUT), "extents " + start + "+" + length);
            }
        }
        if (hasBacking) {
            try (Qcow2Source top = Qcow2Source.openNow(image, true)) {
                assertEquals(Qcow2Fixtures.extentsFromMap(qemuMap, true),
                        top.extents(0, top.size()).collectList().block(TIMEOUT), "top layer extents");
            }
        }
    }

    /** Reads the whole image in random unaligned chunks (heap and direct buffers) into a file. */
    static Path readAll(Qcow2Source source, Path out, SplittableRandom rnd) throws IOException {
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            long pos = 0;
            while (pos < source.size()) {
                int n = (int) Math.min(source.size() - pos, 1 + rnd.nextInt(3 << 20));
                ByteBuffer buf = rnd.nextBoolean() ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
                source.read(pos, buf).block(TIMEOUT);
                assertEquals(n, buf.position(), "read advances the buffer to its limit");
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf, pos + buf.position());
                }
                pos += n;
            }
        }
        return out;
    }

    /** {@code extents} cut to {@code [from, to)}. */
    static List<Extent> slice(List<Extent> extents, long from, long to) {
        List<Extent> out = new ArrayList<>();
        for (Extent e : extents) {
            if (e.end() > from && e.start() < to) {
                out.add(e.clip(from, to));
            }
        }
        return out;
    }
}
