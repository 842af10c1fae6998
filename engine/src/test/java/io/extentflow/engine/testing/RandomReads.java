package io.extentflow.engine.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.extentflow.engine.nbd.NbdClient;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import reactor.core.publisher.Flux;

/**
 * Reads of random places and lengths through an NBD client, 64 in flight, each compared with the
 * bytes the image should hold: the check the server tests share for concurrent READs.
 */
public final class RandomReads {

    private RandomReads() {
    }

    /**
     * Sends {@code count} READs, a quarter of them short (1 byte up to {@code shortMax}) and the rest
     * 1 byte up to 1 MiB, all within {@code expected}, and asserts that each got exactly its bytes.
     */
    public static void assertExact(NbdClient client, byte[] expected, SplittableRandom random, int count,
                                   int shortMax, Duration wait, String label) {
        long[][] reads = new long[count][];
        for (int i = 0; i < count; i++) {
            int length = random.nextInt(4) == 0 ? random.nextInt(1, shortMax + 1) : random.nextInt(1, (1 << 20) + 1);
            reads[i] = new long[] {random.nextInt(expected.length - length + 1), length};
        }
        List<byte[]> got = Flux.fromArray(reads)
                .flatMapSequential(rd -> {
                    ByteBuffer b = ByteBuffer.allocateDirect((int) rd[1]);
                    return client.read(rd[0], b).thenReturn(b).map(filled -> {
                        byte[] out = new byte[(int) rd[1]];
                        filled.get(0, out);
                        return out;
                    });
                }, 64)
                .collectList().block(wait);
        for (int i = 0; i < count; i++) {
            int from = (int) reads[i][0];
            assertArrayEquals(Arrays.copyOfRange(expected, from, from + (int) reads[i][1]), got.get(i),
                    label + ": " + from + "+" + reads[i][1]);
        }
    }
}
