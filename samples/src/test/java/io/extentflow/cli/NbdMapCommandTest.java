package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code extentflow map} on an NBD export prints what {@code nbdinfo --map} prints, as JSON and as text. */
class NbdMapCommandTest {

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    /** JSON as {@code nbdinfo --map --json}, human text (the default) as {@code nbdinfo --map}. */
    @ParameterizedTest(name = "--output={0}")
    @ValueSource(strings = {"json", "human"})
    void mapOfAnExportEqualsNbdinfoText(String output) throws Exception {
        Path raw = dir.resolve("img.raw");
        TestImages.randomSparseRaw(raw, 24L << 20, 3, 40, 2 << 20);
        NbdServers.Server qemu = servers.qemuNbd(dir, "-f", "raw", "-r", raw.toString());
        NbdServers.Server kit = servers.nbdkit(dir, "sparse-random", "size=32M", "seed=9");
        for (NbdServers.Server s : new NbdServers.Server[] {qemu, kit}) {
            Cli.Result r = output.equals("json") ? Cli.run("map", "--output=json", s.uri()) : Cli.run("map", s.uri());
            assertEquals(ExitCodes.OK, r.exitCode(), r.toString());
            String expected = output.equals("json") ? ExternalTool.check("nbdinfo", "--map", "--json", s.uri())
                    : ExternalTool.check("nbdinfo", "--map", s.uri());
            assertEquals(expected, r.out());
        }
    }

    /**
     * A fragmented export (runs of about 1000 bytes in 4 GiB: a million extents of 4 KiB, 80 MB of
     * JSON) maps in a 64 MiB heap, the text identical to nbdinfo's: the block status comes in bounded
     * windows and the entries are printed as they come. Collecting them first ran out of heap.
     */
    @Test
    void jsonMapOfAMillionExtentsFitsA64MiBHeap() throws Exception {
        NbdServers.Server kit = servers.nbdkit(dir, "sparse-random", "size=4G", "runlength=1000", "percent=20",
                "seed=5");
        Path ours = dir.resolve("ours.json");
        Path theirs = dir.resolve("nbdinfo.json");
        Path errors = dir.resolve("errors.txt");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process map = new ProcessBuilder(java, "-Xmx64m", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                Extentflow.class.getName(), "map", "--output=json", kit.uri())
                .redirectOutput(ours.toFile()).redirectError(errors.toFile()).start();
        Process nbdinfo = new ProcessBuilder(ExternalTool.require("nbdinfo").toString(), "--map", "--json", kit.uri())
                .redirectOutput(theirs.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            // a bound for the failure only (out of heap, the map used to hang); it takes seconds
            assertTrue(map.waitFor(5, TimeUnit.MINUTES), "the map did not end: " + Files.readString(errors));
            assertTrue(nbdinfo.waitFor(5, TimeUnit.MINUTES), "nbdinfo did not end");
        } finally {
            map.destroyForcibly();
            nbdinfo.destroyForcibly();
        }
        assertEquals(0, map.exitValue(), Files.readString(errors));
        assertEquals(0, nbdinfo.exitValue(), "nbdinfo failed");
        try (Stream<String> lines = Files.lines(ours)) {
            long entries = lines.count() - 2;
            assertTrue(entries > 1_000_000, "the export should have over a million extents, not " + entries);
        }
        assertEquals(-1, Files.mismatch(theirs, ours), "our map differs from nbdinfo's");
    }
}
