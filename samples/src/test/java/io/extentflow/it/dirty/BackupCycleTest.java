package io.extentflow.it.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.cli.Extentflow;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.dirty.IncrementalSource;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.sinks.qcow2.Qcow2FileSink;
import io.extentflow.sinks.qcow2.Qcow2SinkOptions;
import io.extentflow.sources.DirtyOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backup cycle of the incremental backup issue, with qemu's tools making and changing the image:
 * a qcow2 with a persistent bitmap, a full copy, then three rounds of "clear the bitmap, write, zero
 * and discard, copy the dirty extents". Each round goes into a qcow2 overlay on the previous backup
 * (the library: {@link IncrementalSource} into a {@link Qcow2FileSink} with a backing file) and, in
 * place, into a raw full copy ({@code extentflow copy --incremental}). Each overlay chain and the raw
 * copy must equal the image as it was at that point ({@code qemu-img compare} with a saved copy), and
 * each overlay must hold no more than the dirty data and its metadata.
 */
@Timeout(300)
class BackupCycleTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final String BITMAP = "backup";
    /** Not a whole number of bitmap granules (64 KiB): the last granule is short. */
    private static final long SIZE = (48L << 20) + 12288;
    /** Header, L1 table, an L2 table, refcount table and block, with room to spare (64 KiB clusters). */
    private static final long OVERLAY_METADATA = 8L * 65536;

    private static final String[] FULL = {"write -P 1 0 3M", "write -P 2 10M 5M", "write -P 3 47M 1M",
            "write -P 4 48M 12k"};
    private static final String[][] ROUNDS = {
            {"write -P 11 100k 10k", "write -P 12 1000000 70000", "write -z 11M 64k", "discard 12M 1M",
                    "write -P 13 30M 2M"},
            {"write -z 0 128k", "write -P 21 2555555 1", "discard 10M 512k", "write -P 22 48M 12k",
                    "write -z 47M 4k"},
            {"write -P 31 1M 4M", "discard 30M 1M", "write -z 40M 2M", "write -P 32 20M 64k", "write -P 33 63k 2k"},
    };

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    @ParameterizedTest(name = "dirty extents from {0}")
    @ValueSource(strings = {"nbd"})
    void threeIncrementsMatchTheImageAtEachPoint(String from) throws Exception {
        Path image = dir.resolve("disk.qcow2");
        BitmapImages.create(image, SIZE, BITMAP, null);
        BitmapImages.io(image, FULL);
        Path full = dir.resolve("full.qcow2");
        Path fullRaw = dir.resolve("full.raw");
        cli("copy", image.toString(), full.toString());
        cli("copy", image.toString(), fullRaw.toString());
        Path previous = full;
        for (int round = 1; round <= ROUNDS.length; round++) {
            BitmapImages.clear(image, BITMAP);
            BitmapImages.io(image, ROUNDS[round - 1]);
            Path saved = dir.resolve("disk-" + round + ".raw");
            ExternalTool.check("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image.toString(), saved.toString());
            Path overlay = dir.resolve("inc-" + round + ".qcow2");
            long dirty;
            try (Source src = source(from, image)) {
                dirty = dirtyBytes(src.address);
                CopyResult r = incrementalIntoOverlay(src.address, overlay, previous.getFileName().toString());
                assertEquals(SIZE, r.size());
                assertTrue(r.skippedBytes() >= SIZE - dirty, "clean ranges are skipped: " + r);
                cli("copy", "--incremental", "--dirty-bitmap", BITMAP, src.address, fullRaw.toString());
            }
            ExternalTool.check("qemu-img", "check", "-q", overlay.toString());
            assertEquals(0, ExternalTool.run("qemu-img", "compare", "-q", overlay.toString(), saved.toString())
                    .exitCode(), "overlay " + round + " with its chain differs from the image");
            assertEquals(0, ExternalTool.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw",
                    fullRaw.toString(), saved.toString()).exitCode(), "raw full copy after round " + round);
            long overlaySize = Files.size(overlay);
            assertTrue(overlaySize <= dirty + OVERLAY_METADATA, "overlay " + round + " has " + overlaySize
                    + " bytes for " + dirty + " dirty bytes");
            assertEquals(backing(overlay), previous.getFileName().toString());
            previous = overlay;
        }
    }

    /** The dirty bitmap's source: an NBD export of the image, or the image itself. */
    private Source source(String from, Path image) throws Exception {
        if (from.equals("nbd")) {
            NbdServers.Server s = servers.qemuNbd(dir, "-r", "-f", "qcow2", "-B", BITMAP, image.toString());
            return new Source(s.uri(), s);
        }
        return new Source(image.toString(), null);
    }

    private record Source(String address, NbdServers.Server server) implements AutoCloseable {
        @Override
        public void close() {
            if (server != null) {
                server.close();
            }
        }
    }

    /** {@code extentflow}'s library: the dirty extents of {@code address} into a new overlay on {@code backing}. */
    private static CopyResult incrementalIntoOverlay(String address, Path overlay, String backing) {
        EndpointOptions options = EndpointOptions.defaults().with(DirtyOptions.DIRTY_BITMAP, BITMAP);
        try (ImageSource src = Endpoints.source(address, options).block(TIMEOUT);
             ImageSink sink = Qcow2FileSink.open(overlay, src.size(),
                     Qcow2SinkOptions.defaults().withBacking(backing, "qcow2")).block(TIMEOUT)) {
            return Copy.from(IncrementalSource.of(src)).to(sink).run().block(TIMEOUT);
        }
    }

    /** The bytes the bitmap marks dirty, as nbdinfo reads them from {@code qemu-nbd -B}. */
    private long dirtyBytes(String address) throws Exception {
        String uri = address;
        NbdServers.Server own = null;
        if (!address.startsWith("nbd")) {
            own = servers.qemuNbd(dir, "-r", "-f", "qcow2", "-B", BITMAP, address);
            uri = own.uri();
        }
        try {
            JsonNode map = new ObjectMapper().readTree(ExternalTool.check("nbdinfo",
                    "--map=qemu:dirty-bitmap:" + BITMAP, "--json", uri));
            long dirty = 0;
            for (JsonNode e : map) {
                if (e.get("type").asInt() == 1) {
                    dirty += e.get("length").asLong();
                }
            }
            assertTrue(dirty > 0 && dirty < SIZE / 2, "each round dirties part of the image: " + dirty);
            return dirty;
        } finally {
            if (own != null) {
                own.close();
            }
        }
    }

    private static String backing(Path overlay) throws Exception {
        JsonNode info = new ObjectMapper().readTree(ExternalTool.check("qemu-img", "info", "--output=json",
                overlay.toString()));
        return info.get("backing-filename").asText();
    }

    /** Runs {@code extentflow} in this JVM; fails with what it printed unless it succeeds. */
    static void cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Extentflow.execute(new Console(new PrintWriter(out, true), new PrintWriter(err, true)), args);
        assertEquals(0, code, String.join(" ", args) + "\n" + out + err);
    }
}
