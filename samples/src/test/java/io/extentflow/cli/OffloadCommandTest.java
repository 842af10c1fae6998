package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.testing.TestImages;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code extentflow copy} of a sparse 1 GiB raw file into a new file, with the kernel's copy offload
 * ({@code --offload}; the default only where the file system shares blocks) and with
 * {@code --no-offload}: both targets equal the source byte for byte.
 */
class OffloadCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SIZE = 1L << 30;
    /** 16 data runs of 1 MiB + 4 KiB (one in three is written zeros), one past every 64 MiB. */
    private static final int RUNS = 16;
    private static final int RUN = (1 << 20) + 4096;

    @TempDir
    Path dir;

    Path src;

    @BeforeEach
    void makeSource() throws IOException {
        src = dir.resolve("sparse-1g.raw");
        SplittableRandom rnd = new SplittableRandom(27);
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < RUNS; i++) {
                byte[] run = new byte[RUN];
                if (i % 3 != 0) {
                    rnd.nextBytes(run);
                }
                ByteBuffer b = ByteBuffer.wrap(run);
                long at = i * (SIZE / RUNS) + 8192L * i;
                while (b.hasRemaining()) {
                    at += ch.write(b, at);
                }
            }
            ch.truncate(SIZE);
            ch.write(ByteBuffer.allocate(1), SIZE - 1); // the image ends in data: one zero byte
        }
    }

    @Test
    void offloadedCopyIsExactAndCountsEveryAllocatedByteAsData() throws Exception {
        Path dst = dir.resolve("offloaded.raw");
        Cli.Result r = Cli.run("copy", "--json", "--offload", src.toString(), dst.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode j = JSON.readTree(r.out());
        long allocated = j.get("readBytes").asLong();
        assertTrue(allocated >= (long) RUNS * RUN, r::toString);
        assertEquals(allocated, j.get("offloadedBytes").asLong(), r::toString);
        assertEquals(allocated, j.get("dataBytes").asLong(), "offloaded data is not scanned for zeros");
        TestImages.assertSameContent(src, dst);
    }

    @Test
    void noOffloadCopiesThroughTheBuffersAndFindsZeros() throws Exception {
        Path dst = dir.resolve("copied.raw");
        Cli.Result r = Cli.run("copy", "--json", "--no-offload", src.toString(), dst.toString());
        assertEquals(0, r.exitCode(), r::toString);
        JsonNode j = JSON.readTree(r.out());
        assertEquals(0, j.get("offloadedBytes").asLong(), r::toString);
        assertTrue(j.get("dataBytes").asLong() < j.get("readBytes").asLong(), "zero runs were found: " + r);
        TestImages.assertSameContent(src, dst);
    }

    @Test
    void theSummaryLineSaysWhatWasOffloaded() throws Exception {
        Path dst = dir.resolve("line.raw");
        Cli.Result r = Cli.run("copy", "--no-progress", "--offload", src.toString(), dst.toString());
        assertEquals(0, r.exitCode(), r::toString);
        assertTrue(r.out().contains(" offloaded), ") || r.err().contains(" offloaded), "), r::toString);
        TestImages.assertSameContent(src, dst);
    }

    @Test
    void offloadAndNoOffloadTogetherAreOneLineAndWriteNothing() throws Exception {
        Path dst = dir.resolve("never.raw");
        Cli.Result r = Cli.run("copy", "--no-progress", "--offload", "--no-offload", src.toString(), dst.toString());
        assertNotEquals(0, r.exitCode(), r::toString);
        assertEquals(1, r.err().strip().lines().count(), r::toString);
        assertTrue(r.err().contains("--offload and --no-offload contradict"), r::toString);
        assertFalse(Files.exists(dst), "no target is left");
    }
}
