package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.server.ImageServer;
import io.extentflow.server.ServerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sparse stream on standard input into targets that already have a size: an NBD export and an
 * imageio ticket take its frames as they are; an existing file of content is refused, as it is for
 * any source whose size does not match.
 */
class StreamIntoTargetsTest {

    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @Test
    void aStreamFillsAnNbdExportOfItsSize() throws Exception {
        Path src = source();
        Path disk = dir.resolve("export.raw");
        sized(disk, SIZE);
        var export = servers.qemuNbd(dir, "-f", "raw", disk.toString());
        ExternalTool.Result r = pipe(src, "'" + export.uri() + "'");
        assertEquals(0, r.exitCode(), r.toString());
        export.close();
        TestImages.assertSameContent(src, disk);
    }

    @Test
    void aStreamLongerThanTheExportFailsAtTheFramePastItsEnd() throws Exception {
        Path src = source();
        Path disk = dir.resolve("export.raw");
        sized(disk, SIZE / 2);
        var export = servers.qemuNbd(dir, "-f", "raw", disk.toString());
        ExternalTool.Result r = pipe(src, "'" + export.uri() + "'");
        assertEquals(ExitCodes.FAILURE, r.exitCode(), r.toString());
        assertTrue(r.stderr().lines().anyMatch(l -> l.startsWith("extentflow: ") && l.contains("outside")),
                r.toString());
    }

    @ParameterizedTest(name = "http-stream {0}")
    @ValueSource(booleans = {false, true})
    void aStreamFillsAnImageioTicketOfItsSize(boolean httpStream) throws Exception {
        Path src = source();
        Path disk = dir.resolve("ticket.raw");
        sized(disk, SIZE);
        Path control = dir.resolve("control.sock");
        try (ImageServer server = ImageServer.start(ServerConfig.defaults().withPort(0).withControlSocket(control),
                new SimpleMeterRegistry(), null).block(Duration.ofSeconds(30))) {
            Cli.Result add = Cli.run("ticket", "--control-socket", control.toString(), "add", "--id", "t1",
                    "--url", "file://" + disk, "--size", Long.toString(SIZE), "--ops", "read,write");
            assertEquals(0, add.exitCode(), add::toString);
            // per extent, or as one streamed upload (PUT ?format=sparse)
            ExternalTool.Result r = pipe(src, (httpStream ? "--http-stream " : "") + "'" + server.imageUrl("t1") + "'");
            assertEquals(0, r.exitCode(), r.toString());
        }
        TestImages.assertSameContent(src, disk);
    }

    @Test
    void aStreamIntoAnExistingFileOfContentIsRefused() throws Exception {
        Path src = source();
        Path existing = dir.resolve("existing.raw");
        sized(existing, SIZE * 2);
        byte[] before = Files.readAllBytes(existing);
        ExternalTool.Result r = pipe(src, "'" + existing + "'");
        assertEquals(ExitCodes.FAILURE, r.exitCode(), r.toString());
        assertTrue(r.stderr().contains(existing + ": existing target has " + (SIZE * 2) + " bytes"), r.toString());
        assertEquals(SIZE * 2, Files.size(existing), "the existing file is neither truncated nor extended");
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(existing)), "the existing file is unchanged");
    }

    private Path source() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 7, 40, 1 << 20);
        return src;
    }

    private static void sized(Path file, long size) throws Exception {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size);
            f.write(new byte[] {9, 9, 9});
        }
    }

    /** {@code extentflow copy SRC - | extentflow copy - TARGET}, with {@code target} as shell words (quoted). */
    private static ExternalTool.Result pipe(Path src, String target) {
        String cli = Cli.shellCommand();
        return ExternalTool.run("bash", "-o", "pipefail", "-c",
                cli + " copy '" + src + "' - | " + cli + " copy - " + target);
    }
}
