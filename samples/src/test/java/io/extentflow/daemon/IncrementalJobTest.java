package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.it.dirty.BitmapImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
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

    /**
     * An incremental job into a new qcow2 overlay on the full copy ({@code "backing"}, as the CLI's
     * {@code --backing}): the overlay holds only the dirty clusters and reads, with its chain, as the
     * image; a backing file of another size fails the job and writes nothing.
     */
    @Test
    void incrementalJobWritesAnOverlayOnTheFullCopy() throws Exception {
        Path image = dir.resolve("disk.qcow2");
        BitmapImages.create(image, SIZE, "b", null);
        BitmapImages.io(image, "write -P 1 0 6M");
        Path full = dir.resolve("full.qcow2");
        ExternalTool.check("qemu-img", "convert", "-O", "qcow2", image.toString(), full.toString());
        BitmapImages.clear(image, "b");
        BitmapImages.io(image, "write -P 2 1M 100k", "write -z 3M 1M", "discard 5M 512k", "write -P 3 12M 64k");
        Path overlay = dir.resolve("inc.qcow2");
        try (DaemonFixture f = new DaemonFixture(dir)) {
            JsonNode done = f.awaitResult(f.submit(image.toString(), overlay.toString(), JobsClient.JSON
                    .createObjectNode().put("incremental", true).put("dirty_bitmap", "b").put("backing", "full.qcow2")));
            assertEquals("done", done.get("state").asText(), done.toString());
            ExternalTool.check("qemu-img", "check", "-q", overlay.toString());
            assertEquals(0, ExternalTool.run("qemu-img", "compare", "-q", overlay.toString(), image.toString())
                    .exitCode(), "the overlay with its chain differs from the image");
            // 100k + 1M + 512k + 64k dirty, rounded out to 64 KiB clusters, plus the overlay's metadata
            assertTrue(Files.size(overlay) <= (2L << 20) + 8L * 65536, "overlay holds more than the dirty data: "
                    + Files.size(overlay));

            Path small = dir.resolve("small.qcow2");
            ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", small.toString(), String.valueOf(SIZE / 2));
            Path refused = dir.resolve("refused.qcow2");
            JsonNode bad = f.awaitResult(f.submit(image.toString(), refused.toString(), JobsClient.JSON
                    .createObjectNode().put("incremental", true).put("dirty_bitmap", "b").put("backing", "small.qcow2")));
            assertEquals("failed", bad.get("state").asText(), bad.toString());
            assertTrue(bad.get("error").asText().contains("has virtual size"), bad.toString());
            assertFalse(Files.exists(refused), "nothing is written for a refused backing file");
        }
    }

    /**
     * A crashed daemon's incremental job resumes at its checkpoint: below it the changes are in the
     * target already, above it the target holds the old full copy; the resumed job applies the rest.
     */
    @Test
    void interruptedIncrementalJobResumesAtItsCheckpoint() throws Exception {
        Path image = dir.resolve("disk.qcow2");
        BitmapImages.create(image, SIZE, "b", null);
        BitmapImages.io(image, "write -P 1 0 6M");
        Path old = dir.resolve("old.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", image.toString(), old.toString());
        BitmapImages.clear(image, "b");
        BitmapImages.io(image, "write -P 2 1M 100k", "write -z 3M 1M", "write -P 3 9M 64k", "write -P 4 12M 1M");
        Path now = dir.resolve("now.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", image.toString(), now.toString());
        long checkpoint = 8L << 20;
        byte[] target = Files.readAllBytes(old);
        System.arraycopy(Files.readAllBytes(now), 0, target, 0, (int) checkpoint);
        Path full = dir.resolve("full.raw");
        Files.write(full, target);

        ObjectNode request = JobsClient.JSON.createObjectNode().put("source", image.toString())
                .put("target", full.toString());
        request.putObject("options").put("incremental", true).put("dirty_bitmap", "b");
        ObjectNode submit = JobsClient.JSON.createObjectNode().put("op", "submit").put("id", "inc")
                .put("created", Instant.now().toString());
        submit.set("request", request);
        Path state = Files.createDirectories(dir.resolve("state"));
        try (Journal j = Journal.rewrite(state.resolve(JournalJobStore.FILE), List.of(submit,
                JobsClient.JSON.createObjectNode().put("op", "state").put("id", "inc").put("state", "running"),
                JobsClient.JSON.createObjectNode().put("op", "checkpoint").put("id", "inc").put("offset", checkpoint)))) {
            // written; closed by try
        }
        try (DaemonFixture f = new DaemonFixture(dir)) {
            JsonNode r = f.awaitResult("inc");
            assertEquals("done", r.get("state").asText(), r.toString());
            assertEquals(checkpoint, r.get("resumed_bytes").asLong(), r.toString());
            assertTrue(r.get("data_bytes").asLong() < SIZE - checkpoint, "only dirty data is copied: " + r);
            assertEquals(-1, Files.mismatch(now, full), "the resumed job's target differs from the image");
        }
    }
}
