package io.extentflow.engine.copy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ZeroDetectorTest {

    record Run(int offset, int length, boolean zero) {
    }

    static List<Run> scan(ByteBuffer b) {
        List<Run> runs = new ArrayList<>();
        ZeroDetector.scan(b, (o, l, z) -> runs.add(new Run(o, l, z)));
        return runs;
    }

    @Test
    void findsZeroBlocksAmongData() {
        ByteBuffer b = ByteBuffer.allocateDirect(6 * 4096);
        for (int block : new int[] {0, 3, 4}) {
            b.put(block * 4096 + 17, (byte) 1);
        }
        assertEquals(List.of(new Run(0, 4096, false), new Run(4096, 8192, true), new Run(12288, 8192, false),
                new Run(20480, 4096, true)), scan(b));
    }

    @Test
    void aSingleNonZeroByteAnywhereMakesItsBlockData() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int i = 0; i < 500; i++) {
            ByteBuffer b = ByteBuffer.allocate(3 * 4096 + 100);
            int at = rnd.nextInt(b.capacity());
            b.put(at, (byte) (1 + rnd.nextInt(255)));
            List<Run> runs = scan(b);
            int dataBlock = at / 4096;
            Run data = runs.stream().filter(r -> !r.zero).findFirst().orElseThrow();
            assertEquals(dataBlock * 4096, data.offset, "byte at " + at);
            assertEquals(Math.min(4096, b.capacity() - dataBlock * 4096), data.length);
            assertFalse(ZeroDetector.isZero(b));
        }
    }

    @Test
    void partialLastBlockAndPositionAreHonoured() {
        ByteBuffer b = ByteBuffer.allocate(10_000);
        b.put(9_999, (byte) 5);
        b.position(4096);
        assertEquals(List.of(new Run(0, 4096, true), new Run(4096, 10_000 - 8192, false)), scan(b.slice()));
        assertTrue(ZeroDetector.isZero(ByteBuffer.allocateDirect(1 << 20)));
        assertEquals(List.of(), scan(ByteBuffer.allocate(0)));
    }
}
