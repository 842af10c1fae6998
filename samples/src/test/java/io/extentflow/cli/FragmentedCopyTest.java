package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code extentflow copy} of a fragmented raw image (frag-4g.raw in small: 64 KiB of data at the
 * start of every 128 KiB, some of it written zeros, and single 4 KiB blocks in between), whose small
 * extents the copy gathers into request-size reads: every target equals the source byte for byte,
 * the holes between gathered pieces are zeroed in an existing target and left sparse in a new one.
 */
class FragmentedCopyTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int SIZE = 32 << 20;
    private static final int STEP = 128 << 10;
    private static final int RUN = 64 << 10;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    Path src;
    /** Bytes of data in the source, written zeros included. */
    long allocated;

    @BeforeEach
    void makeFragmentedImage() throws IOException {
        src = dir.resolve("frag.raw");
        SplittableRandom rnd = new SplittableRandom(27);
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int at = 0; at < SIZE; at += STEP) {
                byte[] run = new byte[RUN];
                if (at % (16 * STEP) != 0) { // every 16th run is written zeros: allocated, reads as zeros
                    rnd.nextBytes(run);
                }
                write(ch, run, at);
                allocated += RUN;
                if (at % (3 * STEP) == 0) { // a lone 4 KiB block in the hole
                    byte[] block = new byte[4096];
                    rnd.nextBytes(block);
                    write(ch, block, at + RUN + 16384);
                    allocated += block.length;
                }
            }
        }
        try (RandomAccessFile f = new RandomAccessFile(src.toFile(), "rw")) {
            f.setLength(SIZE); // the image ends in a hole
        }
    }

    private static void write(FileChannel ch, byte[] bytes, long at) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            at += ch.write(b, at);
        }
    }

    @Test
    void intoANewFileEveryByteLandsAndTheHolesStayHoles() throws Exception {
        Path dst = dir.resolve("new.raw");
        for (String flush : new String[] {"--no-flush", "--no-progress"}) {
            Files.deleteIfExists(dst);
            Cli.Result r = Cli.run("copy", "--json", flush,
                    "--no-offload", src.toString(), dst.toString());
            assertEquals(0, r.exitCode(), r::toString);
            JsonNode j = JSON.readTree(r.out());
            assertEquals(allocated, j.get("readBytes").asLong(), "only data extents are read: " + r);
            TestImages.assertSameContent(src, dst);
            long written = TestImages.allocatedBytes(dst);
            assertTrue(written < allocated, "the holes and zero runs stayed holes: " + written + " of " + allocated);
        }
    }

    @Test
    void intoAnExistingFileOfGarbageTheHolesBetweenPiecesAreZeroed() throws Exception {
        Path dst = dir.resolve("garbage.raw");
        byte[] garbage = new byte[SIZE];
        new SplittableRandom(5).nextBytes(garbage);
        Files.write(dst, garbage);
        Cli.Result r = Cli.run("copy", "--json", "--no-offload", src.toString(), dst.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode j = JSON.readTree(r.out());
        assertEquals(SIZE, j.get("dataBytes").asLong() + j.get("zeroedBytes").asLong(), r::toString);
        TestImages.assertSameContent(src, dst);
    }

    @Test
    void throughASparseStreamAndBack() throws Exception {
        Path stream = dir.resolve("frag.sparse");
        Path back = dir.resolve("back.raw");
        Cli.Result r = Cli.run("copy", "--no-progress", src.toString(), stream.toString());
        assertEquals(0, r.exitCode(), r::toString);
        r = Cli.run("copy", "--no-progress", stream.toString(), back.toString());
        assertEquals(0, r.exitCode(), r::toString);
        TestImages.assertSameContent(src, back);
    }

    @Test
    void fromQemuNbdEveryByteLands() throws Exception {
        NbdServers.Server qemu = servers.qemuNbd(dir, "-r", "-f", "raw", src.toString());
        Path dst = dir.resolve("from-nbd.raw");
        Cli.Result r = Cli.run("copy", "--no-progress", "--no-flush", qemu.uri(), dst.toString());
        assertEquals(0, r.exitCode(), r::toString);
        TestImages.assertSameContent(src, dst);
        Path garbage = dir.resolve("from-nbd-garbage.raw");
        byte[] bytes = new byte[SIZE];
        new SplittableRandom(6).nextBytes(bytes);
        Files.write(garbage, bytes);
        r = Cli.run("copy", "--no-progress", qemu.uri(), garbage.toString());
        assertEquals(0, r.exitCode(), r::toString);
        TestImages.assertSameContent(src, garbage);
    }
}
