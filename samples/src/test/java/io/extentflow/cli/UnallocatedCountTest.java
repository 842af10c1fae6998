package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ForwardingImageSource;
import io.extentflow.engine.ImageSource;
import io.extentflow.sources.file.RawFileSource;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

/**
 * The copy command wraps every source in {@link UnallocatedCount}; the wrapper must hand a gathered
 * request to the source's own {@link ImageSource#readPieces} (one READ of the range over NBD, one
 * file-thread task on a file), not fall back to one read per piece.
 */
class UnallocatedCountTest {

    @TempDir
    Path dir;

    /** Forwards everything to a real file source and records the gathered reads that reach it. */
    private record Recording(ImageSource delegate, List<Integer> gathered, List<Long> single)
            implements ForwardingImageSource {
        @Override
        public Mono<Void> read(long offset, ByteBuffer target) {
            single.add(offset);
            return delegate.read(offset, target);
        }

        @Override
        public Mono<Void> readPieces(long offset, ByteBuffer target, List<Extent> pieces) {
            gathered.add(pieces.size());
            return delegate.readPieces(offset, target, pieces);
        }
    }

    @Test
    void aGatheredReadReachesTheSourceWholeAndReadsEveryPiece() throws Exception {
        byte[] bytes = new byte[1 << 20];
        new SplittableRandom(27).nextBytes(bytes);
        Path image = dir.resolve("img.raw");
        Files.write(image, bytes);
        List<Extent> pieces = List.of(Extent.data(4096, 4096), Extent.data(65536, 8192), Extent.data(262144, 4096));
        try (RawFileSource file = RawFileSource.open(image).block(Duration.ofSeconds(30))) {
            Recording recording = new Recording(file, new ArrayList<>(), new ArrayList<>());
            UnallocatedCount counted = new UnallocatedCount(recording);
            ByteBuffer target = ByteBuffer.allocateDirect(512 << 10);
            counted.readPieces(0, target, pieces).block(Duration.ofSeconds(30));

            assertEquals(List.of(3), recording.gathered(), "one gathered read with the three pieces");
            assertEquals(List.of(), recording.single(), "no read per piece");
            assertEquals(target.limit(), target.position(), "the buffer is read to its end");
            for (Extent p : pieces) {
                byte[] got = new byte[(int) p.length()];
                target.get((int) p.start(), got);
                byte[] want = new byte[(int) p.length()];
                System.arraycopy(bytes, (int) p.start(), want, 0, want.length);
                assertArrayEquals(want, got, "piece at " + p.start());
            }
        }
    }
}
