package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.QemuImg;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An incremental backup as a qcow2 overlay: an image was copied once (the previous copy); since then
 * the image changed in an overlay of its own. {@code extentflow copy --top-layer-only} of the changed
 * image with {@code --backing} the previous copy writes only what the top layer holds, so the new
 * overlay's data is the changed clusters and nothing else, and the overlay over the previous copy
 * reads as the changed image.
 */
class Qcow2OverlayTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SIZE = 64L << 20;
    private static final int CLUSTER = 64 << 10;

    @TempDir
    Path dir;

    @Test
    void anOverlayOnThePreviousCopyHoldsOnlyTheChangedClustersAndReadsAsTheNewImage() throws Exception {
        Path raw = dir.resolve("disk.raw");
        TestImages.randomSparseRaw(raw, SIZE, 91, 40, 1 << 20);
        Path image = dir.resolve("disk.qcow2");
        ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), image.toString());

        // the previous copy, made by extentflow
        Path previous = dir.resolve("backup-1.qcow2");
        Cli.Result first = Cli.run("copy", image.toString(), previous.toString());
        assertEquals(0, first.exitCode(), first::toString);

        // the image changes, in an overlay: new data (partly unaligned, so qemu copies the rest of the
        // cluster up), zeros over old data, and a change at the very end
        Path changed = dir.resolve("disk-changed.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=" + CLUSTER,
                "-b", image.getFileName().toString(), "-F", "qcow2", changed.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 1M 300k", "-c", "write -z 8M 2M",
                "-c", "write -P 0x22 40000k 7k", "-c", "write -P 0x33 63M 1M", "-c", "write -z 20M 64k",
                changed.toString());
        long changedData = topLayerData(changed);
        assertTrue(changedData > 0 && changedData < 4L << 20, "changed " + changedData);

        Path delta = dir.resolve("backup-2.qcow2");
        Cli.Result second = Cli.run("copy", "--json", "--top-layer-only", "--backing",
                previous.getFileName().toString(), "--cluster-size", "64K", changed.toString(), delta.toString());
        assertEquals(0, second.exitCode(), second::toString);
        // the summary tells the ranges left to the backing file from zeros: they need not read as zeros
        JsonNode summary = JSON.readTree(second.out());
        assertEquals(SIZE - topLayerBytes(changed, true) - topLayerBytes(changed, false),
                summary.get("unallocatedBytes").asLong(), summary::toString);
        // zeros found in the copied-up clusters count as zero, not as unallocated
        assertTrue(summary.get("zeroedBytes").asLong() + summary.get("skippedBytes").asLong()
                - summary.get("unallocatedBytes").asLong() >= topLayerBytes(changed, false), summary::toString);

        QemuImg.check(delta);
        // the chain reads as the changed image: the overlay over the previous copy
        QemuImg.compare(changed, delta);
        JsonNode info = QemuImg.info(delta);
        assertEquals(previous.getFileName().toString(), info.get("backing-filename").asText(), info::toString);
        assertEquals("qcow2", info.get("backing-filename-format").asText(), info::toString);
        // the same clusters hold data in the top layer: the changed ones, no more
        assertEquals(changedData, topLayerData(delta));
        // and the file is that data plus metadata: header, L1, an L2 table, refcount table and block
        long metadata = 8L * CLUSTER;
        assertTrue(Files.size(delta) <= changedData + metadata, "file of " + Files.size(delta) + " bytes for "
                + changedData + " bytes changed");
        assertTrue(TestImages.allocatedBytes(delta) <= changedData + metadata,
                "allocated " + TestImages.allocatedBytes(delta) + " bytes for " + changedData + " bytes changed");
        // the overlay holds exactly the guest ranges the changed image's top layer holds (data, and the
        // zeros written over old data, which hide it as zero clusters); the rest falls through
        assertEquals(topLayerRanges(changed), topLayerRanges(delta));
        Cli.Result map = Cli.run("map", "--output=json", delta.toString());
        assertEquals(QemuImg.map(delta), JSON.readTree(map.out()));
    }

    @Test
    void clustersLargerThanTheSourcesAreOneLineAndLeaveNoFile() throws Exception {
        Path raw = dir.resolve("disk.raw");
        TestImages.randomSparseRaw(raw, SIZE, 92, 40, 1 << 20);
        Path previous = dir.resolve("backup-1.raw");
        Files.copy(raw, previous);
        Path changed = dir.resolve("disk-changed.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=" + CLUSTER,
                "-b", raw.getFileName().toString(), "-F", "raw", changed.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 0x11 1M 300k", changed.toString());
        Path delta = dir.resolve("backup-2.qcow2");
        // a 2 MiB cluster would hold 64 KiB clusters of the change and others of the backing file
        Cli.Result r = Cli.run("copy", "--top-layer-only", "--backing", previous.getFileName().toString(),
                "--cluster-size", "2M", changed.toString(), delta.toString());
        BadInputTest.assertOneLine(r, ExitCodes.FAILURE, "give a cluster size no larger than the source's");
        assertTrue(Files.notExists(delta), r::toString);
    }

    /** The guest ranges {@code [start, end)} the top layer of {@code image} holds, as data or zeros, joined. */
    private static List<List<Long>> topLayerRanges(Path image) throws Exception {
        List<List<Long>> ranges = new ArrayList<>();
        for (JsonNode e : QemuImg.map(image)) {
            if (e.get("depth").asInt() != 0) {
                continue;
            }
            long start = e.get("start").asLong();
            long end = start + e.get("length").asLong();
            if (!ranges.isEmpty() && ranges.getLast().get(1).longValue() == start) {
                ranges.set(ranges.size() - 1, List.of(ranges.getLast().get(0), end));
            } else {
                ranges.add(List.of(start, end));
            }
        }
        return ranges;
    }

    /** Bytes the top layer of {@code image} holds as data, or as zeros (qemu-img map's entries of depth 0). */
    private static long topLayerBytes(Path image, boolean data) throws Exception {
        long bytes = 0;
        for (JsonNode e : QemuImg.map(image)) {
            if (e.get("depth").asInt() == 0 && e.get("data").asBoolean() == data) {
                bytes += e.get("length").asLong();
            }
        }
        return bytes;
    }

    /** Bytes the top layer of {@code image} holds as data (qemu-img map's entries of depth 0 with data). */
    private static long topLayerData(Path image) throws Exception {
        long bytes = 0;
        for (JsonNode e : QemuImg.map(image)) {
            if (e.get("depth").asInt() == 0 && e.get("data").asBoolean()) {
                bytes += e.get("length").asLong();
            }
        }
        return bytes;
    }

    static {
        ExternalTool.require("qemu-img");
        ExternalTool.require("qemu-io");
    }
}
