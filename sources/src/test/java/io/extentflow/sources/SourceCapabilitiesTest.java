package io.extentflow.sources;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.AllocationDepth;
import io.extentflow.engine.capability.AllocationExtents;
import io.extentflow.engine.capability.HostOffsets;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.extent.Runs;
import io.extentflow.engine.nbd.NbdExtent;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NettyLeaks;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each source offers the capabilities it can report and no others, and what it reports through them
 * is what qemu reports: a qcow2 chain's allocation depth equals qemu-nbd's {@code qemu:allocation-depth}.
 */
@ExtendWith(NettyLeaks.class)
class SourceCapabilitiesTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    @Test
    void rawFilesOfferHostOffsetsInTheirOwnFile() throws Exception {
        Path raw = dir.resolve("a.raw");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "raw", raw.toString(), "1M");
        try (ImageSource s = Endpoints.source(raw.toString()).block(WAIT)) {
            assertEquals(List.of(raw), s.capability(HostOffsets.class).orElseThrow().files());
            assertEquals(Optional.empty(), s.capability(AllocationExtents.class));
            assertEquals(Optional.empty(), s.capability(AllocationDepth.class));
        }
    }

    @Test
    void qcow2ChainsReportTheAllocationDepthQemuNbdReports() throws Exception {
        // a raw base (allocated as far as it reaches), a qcow2 middle and a qcow2 top larger than both:
        // data, zero and unallocated clusters, and ranges past the end of each backing file (which
        // qemu counts as allocated in that file)
        Path base = dir.resolve("base.raw");
        Path middle = dir.resolve("middle.qcow2");
        Path top = dir.resolve("top.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "raw", base.toString(), "2M");
        ExternalTool.check("qemu-io", "-f", "raw", "-c", "write -P 1 0 512k", base.toString());
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "raw",
                middle.toString(), "3M");
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 2 256k 64k", "-c", "write -z 1M 128k",
                "-c", "write -P 3 2560k 64k", middle.toString());
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", middle.toString(), "-F", "qcow2",
                top.toString(), "5M");
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 4 128k 64k", "-c", "write -z 1536k 64k",
                "-c", "write -P 5 4M 64k", top.toString());
        assertEquals(List.of(top, middle, base), hostFiles(top));
        assertEquals(List.of(1, 2, 3), depthValues(assertDepthIsQemuNbds(top)), "every layer answers somewhere");
    }

    @Test
    void qcow2ChainsReportUnallocatedRangesAsDepthZero() throws Exception {
        Path base = dir.resolve("base.qcow2");
        Path top = dir.resolve("top.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "2M");
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 1 512k 64k", base.toString());
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2",
                top.toString(), "3M");
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -z 1M 64k", top.toString());
        assertEquals(List.of(0, 1, 2), depthValues(assertDepthIsQemuNbds(top)));
    }

    /**
     * Asserts that the qcow2 source's allocation depth of {@code top} equals what qemu-nbd serves for
     * it, over the whole image and over a window; returns the map.
     */
    private List<NbdExtent> assertDepthIsQemuNbds(Path top) throws Exception {
        var server = servers.qemuNbd(dir, "-A", "-r", "-f", "qcow2", top.toString());
        try (ImageSource qcow2 = Endpoints.source(top.toString()).block(WAIT);
             ImageSource nbd = Endpoints.source(server.uri()).block(WAIT)) {
            List<NbdExtent> ours = qcow2.capability(AllocationDepth.class).orElseThrow()
                    .map(0, qcow2.size()).collectList().block(WAIT);
            List<NbdExtent> qemus = Runs.merge(nbd.capability(AllocationDepth.class).orElseThrow()
                    .map(0, nbd.size()).collectList().block(WAIT));
            assertEquals(qemus, ours);
            // a window inside the image answers the same as the whole map cut to it
            long from = (128 << 10) + 4096;
            long to = qcow2.size() - 4096;
            List<NbdExtent> window = qcow2.capability(AllocationDepth.class).orElseThrow()
                    .map(from, to - from).collectList().block(WAIT);
            assertEquals(clip(ours, from, to), window);
            return ours;
        }
    }

    private static List<Path> hostFiles(Path image) {
        try (ImageSource s = Endpoints.source(image.toString()).block(WAIT)) {
            return s.capability(HostOffsets.class).orElseThrow().files();
        }
    }

    private static List<Integer> depthValues(List<NbdExtent> map) {
        return map.stream().map(NbdExtent::flags).distinct().sorted().toList();
    }

    @Test
    void nbdExportsOfferAllocationAndDepthOnlyWhenTheServerSelectedIt() throws Exception {
        var kit = servers.nbdkit(dir, "memory", "1M");
        try (ImageSource s = Endpoints.source(kit.uri()).block(WAIT)) {
            assertEquals(List.of(new NbdExtent(0, 1 << 20, 3)),
                    s.capability(AllocationExtents.class).orElseThrow().map(0, s.size()).collectList().block(WAIT));
            assertEquals(Optional.empty(), s.capability(AllocationDepth.class));
            assertEquals(Optional.empty(), s.capability(HostOffsets.class));
        }
    }

    private static List<NbdExtent> clip(List<NbdExtent> all, long from, long to) {
        return all.stream().filter(e -> e.end() > from && e.offset() < to)
                .map(e -> {
                    long s = Math.max(from, e.offset());
                    return new NbdExtent(s, Math.min(to, e.end()) - s, e.flags());
                }).toList();
    }
}
