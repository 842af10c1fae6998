package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code extentflow map} (human) on an NBD export prints what {@code nbdinfo --map} prints. */
class NbdMapHumanTest {

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    @Test
    void humanMapOfAnExportEqualsNbdinfoText() throws Exception {
        Path raw = dir.resolve("img.raw");
        TestImages.randomSparseRaw(raw, 24L << 20, 3, 40, 2 << 20);
        NbdServers.Server qemu = servers.qemuNbd(dir, "-f", "raw", "-r", raw.toString());
        NbdServers.Server kit = servers.nbdkit(dir, "sparse-random", "size=32M", "seed=9");
        for (NbdServers.Server s : new NbdServers.Server[] {qemu, kit}) {
            Cli.Result r = Cli.run("map", s.uri());
            assertEquals(ExitCodes.OK, r.exitCode(), r.toString());
            assertEquals(ExternalTool.check("nbdinfo", "--map", s.uri()), r.out());
        }
    }
}
