package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.testing.TestImages;
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
                "cli-copy.raw", "from-nbd.raw"}) {
            TestImages.assertSameContent(disk, work.resolve(copy));
        }
    }
}
