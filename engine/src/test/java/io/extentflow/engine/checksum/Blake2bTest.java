package io.extentflow.engine.checksum;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.testing.ExternalTool;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Our BLAKE2b against Python's hashlib on random inputs, in one call and in random pieces. */
class Blake2bTest {

    private static final int[] LENGTHS = {0, 1, 63, 64, 127, 128, 129, 255, 256, 257, 1000, 4096, 100_000,
        (1 << 20) + 5};

    @TempDir
    Path dir;

    @Test
    void matchesPythonHashlib() throws Exception {
        SplittableRandom rnd = new SplittableRandom(42);
        List<byte[]> inputs = new ArrayList<>();
        List<String> files = new ArrayList<>();
        for (int i = 0; i < LENGTHS.length; i++) {
            byte[] b = new byte[LENGTHS[i]];
            rnd.nextBytes(b);
            inputs.add(b);
            files.add(Files.write(dir.resolve("in" + i), b).toString());
        }
        List<String> cmd = new ArrayList<>(List.of("python3", "-c",
                "import hashlib,sys\n"
                        + "for p in sys.argv[1:]:\n"
                        + "    d=open(p,'rb').read()\n"
                        + "    print(hashlib.blake2b(d,digest_size=32).hexdigest(), hashlib.blake2b(d).hexdigest())\n"));
        cmd.addAll(files);
        List<String> expected = ExternalTool.check(cmd.toArray(String[]::new)).lines().toList();
        assertEquals(inputs.size(), expected.size());
        HexFormat hex = HexFormat.of();
        for (int i = 0; i < inputs.size(); i++) {
            byte[] in = inputs.get(i);
            String[] want = expected.get(i).split(" ");
            assertEquals(want[0], hex.formatHex(Blake2b.hash(32, ByteBuffer.wrap(in))), "32 bytes, length " + in.length);
            assertEquals(want[1], hex.formatHex(Blake2b.hash(64, ByteBuffer.allocateDirect(in.length).put(in).flip())),
                    "64 bytes, length " + in.length);
            // the same bytes in random pieces
            Blake2b pieces = new Blake2b(32);
            int pos = 0;
            while (pos < in.length) {
                int n = Math.min(in.length - pos, 1 + rnd.nextInt(300));
                pieces.update(in, pos, n);
                pos += n;
            }
            assertEquals(want[0], hex.formatHex(pieces.digest()), "pieces, length " + in.length);
        }
    }
}
