package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's training run copies through every path it exercises, and every copy is whole
 * (NBD included: nbdkit is installed wherever the tests run).
 */
class TrainCommandTest {

    @TempDir
    Path dir;

    @Test
    void everyTrainingCopyIsIdenticalToTheSampleDisk() throws Exception {
        Path work = dir.resolve("work");
        assertEquals(ExitCodes.OK, Cli.run("train", "--dir", work.toString()).exitCode());
        Path disk = work.resolve("disk.raw");
        for (String copy : new String[] {"copy.raw", "downloaded.raw", "streamed.raw", "uploaded.raw", "unpacked.raw",
                "cli-copy.raw", "cli-downloaded.raw", "cli-streamed.raw"}) {
            TestImages.assertSameContent(disk, work.resolve(copy));
        }
        // the image over several extent windows, through a file and through NBD
        Path wide = work.resolve("wide.raw");
        assertTrue(Files.size(wide) > 2 * CopyOptions.DEFAULT_WINDOW_SIZE, "wide.raw spans three windows");
        TestImages.assertSameContent(wide, work.resolve("cli-wide.raw"));
        TestImages.assertSameContent(wide, work.resolve("from-nbd.raw"));
        // incremental copies (qemu-img, qemu-io and qemu-nbd are installed wherever the tests run): the
        // overlays on the full copy, and the full copy changed in place, read as the bitmapped image
        Path bitmapped = work.resolve("bitmap.qcow2");
        for (String copy : new String[] {"overlay-file.qcow2", "overlay-nbd.qcow2", "full.raw"}) {
            ExternalTool.check("qemu-img", "compare", bitmapped.toString(), work.resolve(copy).toString());
        }
        ExternalTool.check("qemu-img", "check", work.resolve("overlay-file.qcow2").toString());
        ExternalTool.check("qemu-img", "check", work.resolve("overlay-nbd.qcow2").toString());
    }

    @Test
    void aKindTrainsItsOwnCopiesOnly() throws Exception {
        Path nbd = dir.resolve("nbd");
        assertEquals(ExitCodes.OK, Cli.run("train", "--kind", "nbd", "--dir", nbd.toString()).exitCode());
        TestImages.assertSameContent(nbd.resolve("wide.raw"), nbd.resolve("from-nbd.raw"));
        assertFalse(Files.exists(nbd.resolve("cli-copy.raw")), "an NBD cache trained file copies");

        Path local = dir.resolve("local");
        assertEquals(ExitCodes.OK, Cli.run("train", "--kind", "local", "--dir", local.toString()).exitCode());
        TestImages.assertSameContent(local.resolve("disk.raw"), local.resolve("cli-copy.raw"));
        for (String other : new String[] {"downloaded.raw", "from-nbd.raw"}) {
            assertFalse(Files.exists(local.resolve(other)), "a local cache trained " + other);
        }

        Path http = dir.resolve("http");
        assertEquals(ExitCodes.OK, Cli.run("train", "--kind", "http", "--dir", http.toString()).exitCode());
        for (String copy : new String[] {"downloaded.raw", "streamed.raw", "uploaded.raw", "cli-downloaded.raw",
                "cli-streamed.raw"}) {
            TestImages.assertSameContent(http.resolve("disk.raw"), http.resolve(copy));
        }
        for (String other : new String[] {"cli-copy.raw", "from-nbd.raw", "bitmap.qcow2"}) {
            assertFalse(Files.exists(http.resolve(other)), "an HTTP cache trained " + other);
        }
    }

    @Test
    void anUnknownKindIsAUsageError() {
        assertEquals(ExitCodes.USAGE, Cli.run("train", "--kind", "ftp", "--dir", dir.toString()).exitCode());
    }
}
