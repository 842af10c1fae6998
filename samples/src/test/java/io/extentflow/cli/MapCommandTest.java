package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code extentflow map} prints the same text as {@code qemu-img map}, compared on real qemu-img output. */
class MapCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private final List<Path> images = new ArrayList<>();

    @BeforeEach
    void images() throws IOException {
        for (long seed : new long[] {21, 22, 23}) {
            Path p = dir.resolve("random-" + seed + ".raw");
            TestImages.randomSparseRaw(p, 24L << 20, seed, 40, 2 << 20);
            images.add(p);
        }
        Path empty = dir.resolve("empty-1t.raw");
        setLength(empty, 1L << 40);
        images.add(empty);

        Path full = dir.resolve("full.raw");
        writeAt(full, 0, 3 << 20);
        images.add(full);

        // data at both ends, a hole between, and a size that is not a multiple of 512
        Path odd = dir.resolve("odd-size.raw");
        writeAt(odd, 0, 8192);
        setLength(odd, 5_000_001);
        writeAt(odd, 4_999_000, 1001);
        images.add(odd);

        // qcow2: plain, compressed, and an overlay on a qcow2 backing file (depth > 0, the file column)
        Path qcow2 = dir.resolve("random-21.qcow2");
        ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", images.get(0).toString(), qcow2.toString());
        images.add(qcow2);
        Path compressed = dir.resolve("random-22-zlib.qcow2");
        ExternalTool.check("qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", images.get(1).toString(),
                compressed.toString());
        images.add(compressed);
        Path overlay = dir.resolve("overlay.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", qcow2.getFileName().toString(),
                "-F", "qcow2", overlay.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 7 1M 3M", "-c", "write -z 8M 1M",
                overlay.toString());
        images.add(overlay);
    }

    @Test
    void jsonOfWholeImagesEqualsQemuImg() {
        for (Path image : images) {
            assertSameAsQemu(image.toString(), "--output=json");
        }
    }

    @Test
    void humanOutputEqualsQemuImg() {
        for (Path image : images) {
            if (image.toString().contains("zlib")) {
                continue; // covered by humanOutputRefusesCompressedClustersLikeQemuImg
            }
            assertSameAsQemu(image.toString(), "--output=human");
        }
    }

    @Test
    void humanOutputRefusesCompressedClustersLikeQemuImg() {
        String image = dir.resolve("random-22-zlib.qcow2").toString();
        ExternalTool.Result qemu = ExternalTool.run("qemu-img", "map", "-f", "qcow2", image);
        Cli.Result ours = Cli.run("map", image);

        assertEquals(1, qemu.exitCode(), qemu::stderr);
        assertEquals(ExitCodes.FAILURE, ours.exitCode(), ours::toString);
        assertEquals(1, ours.errLines().size(), ours::toString);
        assertTrue(ours.errLines().get(0).contains("compressed"), ours::toString);
    }

    @Test
    void jsonOfRandomUnalignedWindowsEqualsQemuImg() throws IOException {
        SplittableRandom rnd = new SplittableRandom(4242);
        for (Path image : images) {
            long size = Files.size(image);
            for (int i = 0; i < 8; i++) {
                long start = rnd.nextLong(size);
                long length = 1 + rnd.nextLong(i % 3 == 0 ? size : Math.max(1, size / 16));
                assertSameAsQemu(image.toString(), "--output=json", "--start-offset", Long.toString(start),
                        "--max-length", Long.toString(length));
            }
            assertSameAsQemu(image.toString(), "--output=json", "--start-offset", Long.toString(size));
            assertSameAsQemu(image.toString(), "--output=json", "--start-offset", "1", "--max-length", "0");
        }
    }

    @Test
    void extentsOutputIsImageioJsonCoveringTheWindow() throws IOException {
        Path image = images.get(0);
        long start = 12345;
        long length = 5_000_000;
        Cli.Result r = Cli.run("map", "--output=extents", "--start-offset", "12345", "--max-length", "5000000",
                image.toString());

        assertEquals(0, r.exitCode(), r::toString);
        JsonNode extents = JSON.readTree(r.out());
        long pos = start;
        for (JsonNode e : extents) {
            assertEquals(List.of("start", "length", "zero", "hole"), iterableToList(e.fieldNames()));
            assertEquals(pos, e.get("start").asLong());
            pos += e.get("length").asLong();
        }
        assertEquals(start + length, pos);
    }

    private static List<String> iterableToList(java.util.Iterator<String> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    private static void assertSameAsQemu(String image, String... options) {
        List<String> qemu = new ArrayList<>(List.of("qemu-img", "map", "-f", image.endsWith(".qcow2") ? "qcow2" : "raw"));
        qemu.addAll(List.of(options));
        qemu.add(image);
        ExternalTool.Result expected = ExternalTool.run(qemu);
        assertEquals(0, expected.exitCode(), expected::stderr);

        List<String> ours = new ArrayList<>(List.of("map"));
        ours.addAll(List.of(options));
        ours.add(image);
        Cli.Result actual = Cli.run(ours.toArray(String[]::new));

        assertEquals(0, actual.exitCode(), actual::toString);
        assertEquals(expected.stdout(), actual.out(), () -> "extentflow " + ours + " differs from " + qemu);
        assertTrue(actual.err().isEmpty(), actual::toString);
    }

    private static void setLength(Path p, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
    }

    private static void writeAt(Path p, long offset, int length) throws IOException {
        byte[] bytes = new byte[length];
        new SplittableRandom(offset + length).nextBytes(bytes);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            long pos = offset;
            while (b.hasRemaining()) {
                pos += ch.write(b, pos);
            }
        }
    }
}
