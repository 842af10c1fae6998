package io.extentflow.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZeroBufferTest {

    @Test
    void zerosAreZerosAndCannotBeWritten() {
        ByteBuffer zeros = ZeroBuffer.of(ZeroBuffer.CAPACITY);
        assertEquals(ZeroBuffer.CAPACITY, zeros.remaining());
        assertTrue(zeros.isDirect() && zeros.isReadOnly());
        while (zeros.hasRemaining()) {
            assertEquals(0, zeros.get(), "byte " + (zeros.position() - 1));
        }
        assertThrows(ReadOnlyBufferException.class, () -> ZeroBuffer.of(4096).put(0, (byte) 1));
        assertEquals(4096, ZeroBuffer.of(4096).capacity());
        assertThrows(IllegalArgumentException.class, () -> ZeroBuffer.of(ZeroBuffer.CAPACITY + 1));
        assertThrows(IllegalArgumentException.class, () -> ZeroBuffer.of(0));
    }

    @Test
    void readingEveryByteCostsNoResidentMemory() throws IOException {
        ByteBuffer zeros = ZeroBuffer.of(ZeroBuffer.CAPACITY);
        long sum = 0;
        for (int i = 0; i < zeros.capacity(); i += 512) {
            sum += zeros.get(i);
        }
        assertEquals(0, sum);
        long address = MemorySegment.ofBuffer(zeros).address();
        // a cleared direct buffer would show its whole megabyte here
        assertEquals(0, residentKiB(address), "resident KiB of the mapping holding the zeros");
    }

    @Test
    void theKernelReadsThemIntoAFile(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ones");
        byte[] ones = new byte[3 * 65536];
        Arrays.fill(ones, (byte) 1);
        Files.write(file, ones);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ZeroBuffer.of(65536);
            while (zeros.hasRemaining()) {
                ch.write(zeros, 65536 + zeros.position());
            }
        }
        byte[] back = Files.readAllBytes(file);
        for (int i = 0; i < back.length; i++) {
            assertEquals(i >= 65536 && i < 131072 ? 0 : 1, back[i], "byte " + i);
        }
    }

    /** The Rss of the mapping of /proc/self/smaps that holds {@code address}. */
    private static long residentKiB(long address) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/smaps"));
        boolean inside = false;
        for (String line : lines) {
            if (Character.digit(line.charAt(0), 16) >= 0 && line.contains("-") && line.indexOf(' ') > line.indexOf('-')) {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                long start = HexFormat.fromHexDigitsToLong(range[0]);
                long end = HexFormat.fromHexDigitsToLong(range[1]);
                inside = Long.compareUnsigned(start, address) <= 0 && Long.compareUnsigned(address, end) < 0;
            } else if (inside && line.startsWith("Rss:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new AssertionError("no mapping holds address " + Long.toHexString(address));
    }
}
