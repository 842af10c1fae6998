package io.extentflow.engine.checksum;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.extentflow.engine.Extent;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.testing.MemoryImage;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The checksum a copy computes from the data it moves equals the one computed by reading the image. */
class StreamingBlockHashTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** The blkhash of {@code bytes} the plain way: every block read and hashed in order. */
    private static String sequential(byte[] bytes, String algorithm, int blockSize) {
        BlockHash hash = new BlockHash(algorithm, blockSize);
        for (int pos = 0; pos < bytes.length; pos += blockSize) {
            BlockHash.Block block = hash.block();
            block.update(ByteBuffer.wrap(bytes, pos, Math.min(blockSize, bytes.length - pos)));
            block.finish();
        }
        return hash.hexDigest();
    }

    static MemoryImage image(int size, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] bytes = new byte[size];
        List<Extent> extents = new ArrayList<>();
        int pos = 0;
        while (pos < size) {
            int len = Math.min(size - pos, 4096 * (1 + rnd.nextInt(300)));
            if (rnd.nextBoolean()) {
                byte[] chunk = new byte[len];
                rnd.nextBytes(chunk);
                System.arraycopy(chunk, 0, bytes, pos, len);
                extents.add(Extent.data(pos, len));
            } else {
                extents.add(rnd.nextBoolean() ? Extent.zero(pos, len) : Extent.hole(pos, len));
            }
            pos += len;
        }
        return MemoryImage.source(bytes, extents);
    }

    @ParameterizedTest
    @CsvSource({"1, 1048576, 65536, blake2b", "2, 1048576, 4194304, blake2b", "3, 2097152, 262144, sha256",
        "4, 1048576, 1048576, blake2b"})
    void copyObservedChecksumEqualsReadChecksum(long seed, int blockSize, int requestSize, String algorithm) {
        int size = 9 * (1 << 20) + 12345;
        MemoryImage src = image(size, seed);
        String read = sequential(src.bytes(), algorithm, blockSize);
        StreamingBlockHash streaming = new StreamingBlockHash(algorithm, blockSize, size);
        Copy.from(src).to(MemoryImage.sink(size, seed % 2 == 0).delay(Duration.ofMillis(seed % 3)))
                .options(CopyOptions.defaults().withRequestSize(requestSize).withMaxInFlight(8L * requestSize))
                .observe(streaming).run().block(TIMEOUT);
        assertEquals(read, streaming.hexDigest());

        src.bytes()[size / 2] ^= 1;
        StreamingBlockHash changed = new StreamingBlockHash(algorithm, blockSize, size);
        Copy.from(MemoryImage.source(src.bytes(), List.of(Extent.data(0, size)))).to(MemoryImage.sink(size, true))
                .observe(changed).run().block(TIMEOUT);
        assertNotEquals(read, changed.hexDigest());
    }

    @ParameterizedTest
    @CsvSource({"1048576"})
    void anIncompleteImageHasNoChecksum(int blockSize) {
        StreamingBlockHash h = new StreamingBlockHash("blake2b", blockSize, 3L * blockSize);
        h.zero(0, blockSize);
        h.zero(2L * blockSize, blockSize);
        assertThrows(IllegalStateException.class, h::hexDigest);
    }
}
