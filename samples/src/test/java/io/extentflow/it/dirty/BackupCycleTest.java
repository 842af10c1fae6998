package io.extentflow.it.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.cli.Extentflow;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup cycle of the incremental backup issue, with qemu's tools making and changing the image:
 * a qcow2 with a persistent bitmap, a full copy, then three rounds of "clear the bitmap, write, zero
 * and discard, copy the dirty extents". Each round goes, through the command line, into a qcow2
 * overlay on the previous backup ({@code extentflow copy --incremental --dirty-bitmap NAME SRC
 * inc-N.qcow2 --backing inc-(N-1).qcow2}) and, in place, into a raw full copy ({@code extentflow copy
 * --incremental SRC full.raw}). Each overlay chain and the raw
 * copy must equal the image as it was at that point ({@code qemu-img compare} with a saved copy), and
 * each overlay must hold no more than the dirty data and its metadata.
 */
@Timeout(300)
class BackupCycleTest {

    private static final String BITMAP = "backup";
    private static final List<String> PATHS = List.of("nbd", "qcow2");
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

    /**
     * Every round is copied twice, from the same image: with the dirty extents from {@code qemu-nbd
     * -r -B} (the NBD path) and from the image's own bitmap (the qcow2 path, no qemu process), each
     * into its own chain of overlays and its own raw full copy. Both paths must give the same
     * overlays: the same clusters allocated in each, holding the same data.
     */
    @Test
    void threeIncrementsMatchTheImageAtEachPoint() throws Exception {
        Path image = dir.resolve("disk.qcow2");
        BitmapImages.create(image, SIZE, BITMAP, null);
        BitmapImages.io(image, FULL);
        Path full = dir.resolve("full.qcow2");
        cli("copy", image.toString(), full.toString());
        Map<String, Path> previous = new LinkedHashMap<>();
        Map<String, Path> fullRaw = new LinkedHashMap<>();
        for (String from : PATHS) {
            previous.put(from, full);
            fullRaw.put(from, dir.resolve("full-" + from + ".raw"));
            cli("copy", image.toString(), fullRaw.get(from).toString());
        }
        for (int round = 1; round <= ROUNDS.length; round++) {
            BitmapImages.clear(image, BITMAP);
            BitmapImages.io(image, ROUNDS[round - 1]);
            Path saved = dir.resolve("disk-" + round + ".raw");
            ExternalTool.check("qemu-img", "convert", "-f", "qcow2", "-O", "raw", image.toString(), saved.toString());
            long dirty = dirtyBytes(image);
            Map<String, Path> overlays = new LinkedHashMap<>();
            for (String from : PATHS) {
                Path overlay = dir.resolve("inc-" + from + "-" + round + ".qcow2");
                overlays.put(from, overlay);
                try (Source src = source(from, image)) {
                    // the backing name as it goes into the overlay: relative, resolved from the overlay's folder
                    JsonNode r = new ObjectMapper().readTree(cli("copy", "--json", "--no-progress", "--incremental",
                            "--dirty-bitmap", BITMAP, src.address, overlay.toString(),
                            "--backing", previous.get(from).getFileName().toString()));
                    assertEquals(SIZE, r.get("size").asLong());
                    assertTrue(r.get("skippedBytes").asLong() >= SIZE - dirty, "clean ranges are skipped: " + r);
                    cli("copy", "--incremental", "--dirty-bitmap", BITMAP, src.address,
                            fullRaw.get(from).toString());
                }
                String what = from + " path, round " + round;
                ExternalTool.check("qemu-img", "check", "-q", overlay.toString());
                assertEquals(0, ExternalTool.run("qemu-img", "compare", "-q", overlay.toString(), saved.toString())
                        .exitCode(), "the overlay with its chain differs from the image: " + what);
                assertEquals(0, ExternalTool.run("qemu-img", "compare", "-q", "-f", "raw", "-F", "raw",
                        fullRaw.get(from).toString(), saved.toString()).exitCode(), "raw full copy, " + what);
                long overlaySize = Files.size(overlay);
                assertTrue(overlaySize <= dirty + OVERLAY_METADATA, "overlay has " + overlaySize + " bytes for "
                        + dirty + " dirty bytes: " + what);
                assertEquals(previous.get(from).getFileName().toString(), backing(overlay));
                previous.put(from, overlay);
            }
            assertEquals(topLayer(overlays.get("nbd")), topLayer(overlays.get("qcow2")),
                    "the two paths allocate different clusters in round " + round);
            assertTrue(topLayer(overlays.get("nbd")).size() > 1, "the overlay allocates something");
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

    /** The bytes the bitmap marks dirty, as nbdinfo reads them from {@code qemu-nbd -B}. */
    private long dirtyBytes(Path image) throws Exception {
        NbdServers.Server own = servers.qemuNbd(dir, "-r", "-f", "qcow2", "-B", BITMAP, image.toString());
        String uri = own.uri();
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
            own.close();
        }
    }

    /**
     * What the overlay itself allocates: {@code qemu-img map}'s entries of depth 0 (the overlay),
     * with their guest ranges and flags but not their host offsets, which depend on the order the
     * copy's requests completed in.
     */
    private static List<String> topLayer(Path overlay) throws Exception {
        // qemu-img merges entries only when their host offsets are contiguous too: merge by flags alone
        List<long[]> runs = new ArrayList<>();
        for (JsonNode e : new ObjectMapper().readTree(ExternalTool.check("qemu-img", "map", "--output=json",
                overlay.toString()))) {
            if (e.get("depth").asInt() != 0) {
                continue;
            }
            long kind = (e.get("data").asBoolean() ? 1 : 0) | (e.get("zero").asBoolean() ? 2 : 0);
            long[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
            if (last != null && last[2] == kind && last[0] + last[1] == e.get("start").asLong()) {
                last[1] += e.get("length").asLong();
            } else {
                runs.add(new long[] {e.get("start").asLong(), e.get("length").asLong(), kind});
            }
        }
        return runs.stream().map(r -> r[0] + "+" + r[1] + (r[2] == 1 ? " data" : r[2] == 2 ? " zero" : " kind " + r[2]))
                .toList();
    }

    private static String backing(Path overlay) throws Exception {
        JsonNode info = new ObjectMapper().readTree(ExternalTool.check("qemu-img", "info", "--output=json",
                overlay.toString()));
        return info.get("backing-filename").asText();
    }

    /**
     * Runs {@code extentflow} in this JVM; fails with what it printed unless it succeeds.
     *
     * @return what it printed on standard output
     */
    static String cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Extentflow.execute(new Console(new PrintWriter(out, true), new PrintWriter(err, true)), args);
        assertEquals(0, code, String.join(" ", args) + "\n" + out + err);
        return out.toString();
    }
}
