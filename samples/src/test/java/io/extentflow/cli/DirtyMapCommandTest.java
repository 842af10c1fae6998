package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.it.dirty.BitmapImages;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code extentflow map --context qemu:dirty-bitmap:NAME} of an export from {@code qemu-nbd -r -B NAME}
 * prints exactly what {@code nbdinfo --map=qemu:dirty-bitmap:NAME} prints, on bitmaps of several
 * granularities and write patterns; so does the map of the image's persistent bitmap read by our
 * qcow2 reader, without qemu-nbd, and so does that bitmap served by {@code extentflow nbd --dirty-bitmap}.
 */
class DirtyMapCommandTest {

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    static List<Arguments> patterns() {
        return List.of(
                // 64 KiB granularity under writes that start and end inside granules, and a size that
                // does not end on a granule
                Arguments.of("unaligned-64k", 65536, (20L << 20) + 12288, new String[] {
                        "write -P 1 100k 10k", "write -P 2 1000000 70000", "write -z 3M 4k", "discard 5M 1M",
                        "write -P 3 20M 12k"}),
                // 4 KiB granularity, many small writes in a row and apart
                Arguments.of("small-4k", 4096, 16L << 20, new String[] {
                        "write -P 4 0 512", "write -P 5 4097 1", "write -P 6 8M 300k", "write -P 7 9M 4k",
                        "write -z 9M 64k", "write -P 8 16380k 4k"}),
                // 512 KiB granularity (larger than a cluster), most of the disk dirty
                Arguments.of("large-512k", 512 << 10, 32L << 20, new String[] {
                        "write -P 9 0 20M", "discard 21M 1k", "write -P 10 30M 2M"}),
                // nothing written since the bitmap was added: all clean
                Arguments.of("clean", 65536, 8L << 20, new String[0]));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("patterns")
    void dirtyMapEqualsNbdinfo(String name, int granularity, long size, String[] writes) throws Exception {
        Path image = dir.resolve(name + ".qcow2");
        BitmapImages.create(image, size, "bm", granularity);
        if (writes.length > 0) {
            BitmapImages.io(image, writes);
        }
        NbdServers.Server qemu = servers.qemuNbd(dir, "-r", "-f", "qcow2", "-B", "bm", image.toString());
        String context = "qemu:dirty-bitmap:bm";
        for (String output : new String[] {"json", "human"}) {
            String expected = output.equals("json")
                    ? ExternalTool.check("nbdinfo", "--map=" + context, "--json", qemu.uri())
                    : ExternalTool.check("nbdinfo", "--map=" + context, qemu.uri());
            // the NBD export, and the image's own bitmap read by our qcow2 reader
            for (String address : new String[] {qemu.uri(), image.toString()}) {
                Cli.Result r = Cli.run("map", "--context", context, "--output=" + output, address);
                assertEquals(ExitCodes.OK, r.exitCode(), r.toString());
                assertEquals(expected, r.out(), output + " of " + address);
            }
        }
        // the image's bitmap served by extentflow nbd, read by nbdinfo: as qemu-nbd -B serves it
        try (NbdCommandProcess ours = NbdCommandProcess.start(dir, image.toString(), "--socket",
                dir.resolve(name + ".sock").toString(), "--read-only", "--dirty-bitmap", "bm")) {
            assertEquals(ExternalTool.check("nbdinfo", "--map=" + context, "--json", qemu.uri()),
                    ExternalTool.check("nbdinfo", "--map=" + context, "--json", ours.uri()), "extentflow nbd");
        }
        if (writes.length > 0) {
            assertTrue(ExternalTool.check("nbdinfo", "--map=" + context, qemu.uri()).contains("dirty"),
                    "the pattern should leave dirty ranges");
        }
    }

    /** An export without the bitmap asked for: one line naming the bitmaps it has. */
    @Test
    void noSuchBitmapNamesTheExportsBitmaps() throws Exception {
        Path image = dir.resolve("two.qcow2");
        BitmapImages.create(image, 4L << 20, "monday", null);
        NbdServers.Server qemu = servers.qemuNbd(dir, "-r", "-f", "qcow2", "-B", "monday", image.toString());
        Cli.Result r = Cli.run("map", "--context", "qemu:dirty-bitmap:tuesday", "--output=json", qemu.uri());
        assertEquals(ExitCodes.FAILURE, r.exitCode(), r.toString());
        assertEquals("", r.out());
        assertTrue(r.err().contains("no dirty bitmap 'tuesday'") && r.err().contains("it lists: monday"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());

        NbdServers.Server plain = servers.qemuNbd(dir, "-r", "-f", "qcow2", image.toString());
        Cli.Result none = Cli.run("map", "--dirty-bitmap", "monday", "--context", "qemu:dirty-bitmap:monday",
                plain.uri());
        assertEquals(ExitCodes.FAILURE, none.exitCode(), none.toString());
        assertTrue(none.err().contains("no dirty bitmap 'monday' (it lists none)"), none.err());
    }
}
