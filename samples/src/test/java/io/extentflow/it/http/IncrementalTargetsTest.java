package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.it.dirty.BitmapImages;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code extentflow copy --incremental} applies the changes in place to a full copy behind an NBD
 * export ({@code qemu-nbd}, read-write) and behind an imageio ticket ({@code extentflow serve}), not
 * only to a local file.
 */
class IncrementalTargetsTest {

    private static final long SIZE = 12L << 20;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    @Test
    void changesApplyInPlaceOverNbdAndHttp() throws Exception {
        Path image = dir.resolve("disk.qcow2");
        BitmapImages.create(image, SIZE, "b", null);
        BitmapImages.io(image, "write -P 1 0 5M", "write -P 2 8M 2M");
        Path viaNbd = dir.resolve("full-nbd.raw");
        Path viaHttp = dir.resolve("full-http.raw");
        for (Path full : new Path[] {viaNbd, viaHttp}) {
            ExternalTool.check("qemu-img", "convert", "-O", "raw", image.toString(), full.toString());
        }
        BitmapImages.clear(image, "b");
        BitmapImages.io(image, "write -P 3 100k 200k", "write -z 1M 1M", "discard 8M 1M", "write -P 4 11M 4k");

        NbdServers.Server nbd = servers.qemuNbd(dir, "-f", "raw", "--cache=none", viaNbd.toString());
        CliOverHttpTest.Run overNbd = CliOverHttpTest.cli("copy", "--incremental", "--dirty-bitmap", "b",
                image.toString(), nbd.uri());
        assertEquals(0, overNbd.code(), overNbd.err());
        assertTrue(overNbd.out().startsWith("applied changes to 12 MiB: "), overNbd.out());
        assertTrue(overNbd.out().contains(" unchanged in "), overNbd.out());
        nbd.close();
        assertEquals(0, ExternalTool.run("qemu-img", "compare", "-q", "-F", "raw", image.toString(),
                viaNbd.toString()).exitCode(), "the full copy behind NBD differs from the image");

        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("full", viaHttp, SIZE, "read", "write");
            CliOverHttpTest.Run overHttp = CliOverHttpTest.cli("copy", "--incremental", "--dirty-bitmap", "b",
                    image.toString(), url);
            assertEquals(0, overHttp.code(), overHttp.err());
        }
        assertEquals(0, ExternalTool.run("qemu-img", "compare", "-q", "-F", "raw", image.toString(),
                viaHttp.toString()).exitCode(), "the full copy behind the imageio ticket differs from the image");
    }
}
