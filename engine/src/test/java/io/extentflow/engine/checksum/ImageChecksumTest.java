package io.extentflow.engine.checksum;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.testing.ExternalTool;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * blkhash over a source equals a Python rendering of ovirt-imageio's construction (hash of the
 * per-block BLAKE2b-256 digests), and zero extents are not read.
 */
public class ImageChecksumTest {

    /** The construction, written from ovirt-imageio's description, hashing every block's bytes. */
    public static final String PYTHON_BLKHASH = "import hashlib,sys\n"
            + "alg,bs=sys.argv[2],int(sys.argv[3])\n"
            + "new=(lambda d=b'': hashlib.blake2b(d,digest_size=32)) if alg=='blake2b' else "
            + "(lambda d=b'': hashlib.new(alg,d))\n"
            + "outer=new()\n"
            + "with open(sys.argv[1],'rb') as f:\n"
            + "    while True:\n"
            + "        b=f.read(bs)\n"
            + "        if not b: break\n"
            + "        outer.update(new(b).digest())\n"
            + "print(outer.hexdigest())\n";

    @TempDir
    Path dir;

    /** An in-memory source whose extents say where it is zero; counts the bytes read. */
    private static final class MemorySource implements ImageSource {
        final byte[] bytes;
        final List<Extent> extents;
        final AtomicLong read = new AtomicLong();

        MemorySource(byte[] bytes, List<Extent> extents) {
            this.bytes = bytes;
            this.extents = extents;
        }

        @Override
        public String endpoint() {
            return "memory:";
        }

        @Override
        public String format() {
            return "raw";
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public Flux<Extent> extents(long start, long length) {
            return Flux.fromIterable(extents).filter(e -> e.end() > start && e.start() < start + length)
                    .map(e -> e.clip(start, start + length));
        }

        @Override
        public Mono<Void> read(long offset, ByteBuffer target) {
            return Mono.fromRunnable(() -> {
                read.addAndGet(target.remaining());
                target.put(bytes, (int) offset, target.remaining());
            });
        }

        @Override
        public void close() {
        }
    }

    @Test
    void sparseImageChecksumMatchesPythonAndSkipsZeros() throws Exception {
        int size = (9 << 20) + 12345; // not a multiple of the block size
        byte[] bytes = new byte[size];
        List<Extent> extents = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(9);
        int pos = 0;
        boolean data = true;
        while (pos < size) {
            int n = Math.min(size - pos, 4096 * (1 + rnd.nextInt(400)));
            if (data) {
                byte[] chunk = new byte[n];
                rnd.nextBytes(chunk);
                System.arraycopy(chunk, 0, bytes, pos, n);
                extents.add(Extent.data(pos, n));
            } else {
                extents.add(Extent.hole(pos, n));
            }
            pos += n;
            data = !data;
        }
        // a whole zero block in the middle: extents say so, no read needed
        java.util.Arrays.fill(bytes, 4 << 20, 5 << 20, (byte) 0);
        List<Extent> withZeroBlock = new ArrayList<>();
        for (Extent e : extents) {
            if (e.end() <= (4 << 20) || e.start() >= (5 << 20)) {
                withZeroBlock.add(e);
            } else {
                if (e.start() < (4 << 20)) {
                    withZeroBlock.add(e.clip(e.start(), 4 << 20));
                }
                if (e.end() > (5 << 20)) {
                    withZeroBlock.add(e.clip(5 << 20, e.end()));
                }
            }
        }
        withZeroBlock.add(Extent.zero(4 << 20, 1 << 20));
        withZeroBlock.sort(java.util.Comparator.comparingLong(Extent::start));
        Path file = Files.write(dir.resolve("img"), bytes);
        for (String alg : List.of("blake2b", "sha256")) {
            for (int bs : List.of(1 << 20, 4 << 20)) {
                MemorySource src = new MemorySource(bytes, withZeroBlock);
                Map<String, Object> r = ImageChecksum.compute(src, size, alg, bs,
                                CopyOptions.defaults().withRequestSize(256 << 10))
                        .block(Duration.ofSeconds(30));
                String expected = ExternalTool.check("python3", "-c", PYTHON_BLKHASH, file.toString(), alg,
                        Integer.toString(bs)).strip();
                assertEquals(expected, r.get("checksum"), alg + " block size " + bs);
                assertEquals(alg, r.get("algorithm"));
                assertEquals(bs, r.get("block_size"));
                if (bs == 1 << 20) {
                    assertTrue(src.read.get() <= size - (1 << 20), "the zero block was read: " + src.read.get());
                }
            }
        }
    }
}
