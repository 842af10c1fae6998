package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.it.dirty.BitmapImages;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's incremental jobs: {@code "incremental": true} with a {@code dirty_bitmap}, as the CLI's. */
class IncrementalJobTest {

    private static final long SIZE = 16L << 20;

    @TempDir
    Path dir;

    @Test
    void incrementalJobAppliesTheChangesToAFullCopy() throws Exception {
        Path image = dir.resolve("disk.qcow2");
        BitmapImages.create(image, SIZE, "b", null);
        BitmapImages.io(image, "write -P 1 0 6M");
        Path full = dir.resolve("full.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", image.toString(), full.toString());
        BitmapImages.clear(image, "b");
        BitmapImages.io(image, "write -P 2 1M 100k", "write -z 3M 1M", "discard 5M 512k", "write -P 3 12M 64k");
        try (DaemonFixture f = new DaemonFixture(dir)) {
            JsonNode done = f.awaitResult(f.submit(image.toString(), full.toString(),
                    JobsClient.JSON.createObjectNode().put("incremental", true).put("dirty_bitmap", "b")));
            assertEquals("done", done.get("state").asText(), done.toString());
            assertTrue(done.get("skipped_bytes").asLong() > SIZE / 2, "clean ranges are skipped: " + done);
            assertEquals(0, ExternalTool.run("qemu-img", "compare", "-q", "-F", "raw", image.toString(),
                    full.toString()).exitCode(), "the full copy differs from the image after the job");

            JsonNode noBitmap = f.awaitResult(f.submit(image.toString(), full.toString(),
                    JobsClient.JSON.createObjectNode().put("incremental", true)));
            assertEquals("failed", noBitmap.get("state").asText(), noBitmap.toString());
            assertTrue(noBitmap.get("error").asText().contains("reports no dirty extents"), noBitmap.toString());

            Path missing = dir.resolve("missing.raw");
            JsonNode noTarget = f.awaitResult(f.submit(image.toString(), missing.toString(),
                    JobsClient.JSON.createObjectNode().put("incremental", true).put("dirty_bitmap", "b")));
            assertEquals("failed", noTarget.get("state").asText(), noTarget.toString());
            assertTrue(noTarget.get("error").asText().contains("does not exist"), noTarget.toString());
            assertFalse(Files.exists(missing));
        }
    }
}
