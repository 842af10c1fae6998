package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.imageio.ImageioJson;
import io.extentflow.engine.imageio.Ticket;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.it.dirty.BitmapImages;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /images/TICKET/extents?context=dirty} of {@code extentflow serve}: ovirt-imageio's reply
 * shape ({@code {"start","length","dirty","zero"}}, in that order), dirty as the bitmap says and zero
 * as {@code base:allocation} says, merged as ovirt-imageio's NBD backend merges the two contexts; the
 * project's {@code start}/{@code length} windows are slices of the whole list; a ticket without
 * {@code "dirty": true} gets 404. The HTTP source reads it back: the map of its dirty context and an
 * incremental copy from it.
 */
class DirtyExtentsApiTest {

    private static final long SIZE = (24L << 20) + 8192;
    private static final String BITMAP = "nightly";
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    @Test
    void dirtyContextHasImageiosShapeAndMergesBitmapWithAllocation() throws Exception {
        Path image = dir.resolve("disk.qcow2");
        BitmapImages.create(image, SIZE, BITMAP, null);
        BitmapImages.io(image, "write -P 1 0 4M");
        BitmapImages.clear(image, BITMAP);
        BitmapImages.io(image, "write -P 2 100k 10k", "write -z 1M 128k", "write -P 3 3M 2M", "discard 8M 1M",
                "write -P 4 20M 8k", "write -z 24M 8k");
        NbdServers.Server qemu = servers.qemuNbd(dir, "-r", "-e", "8", "-f", "qcow2", "-B", BITMAP,
                image.toString());
        String nbdinfo = ExternalTool.check("nbdinfo", "--map=qemu:dirty-bitmap:" + BITMAP, "--json", qemu.uri());
        List<long[]> expected = expected(qemu.uri());
        assertTrue(expected.stream().anyMatch(e -> e[2] == 1 && e[3] == 1), "a dirty range reads as zeros");
        assertTrue(expected.stream().anyMatch(e -> e[2] == 1 && e[3] == 0), "a dirty range holds data");

        try (ServerFixture f = new ServerFixture(dir)) {
            addTicket(f, "local", "file://" + image, true, BITMAP);
            addTicket(f, "nbd", qemu.uri(), true, null); // the export's one bitmap, as imageio learns it
            addTicket(f, "plain", "file://" + image, false, null);
            for (String ticket : List.of("local", "nbd")) {
                ServerFixture.Reply r = f.request(f.data, HttpMethod.GET, "/images/" + ticket
                        + "/extents?context=dirty", null);
                assertEquals(200, r.status(), r.toString());
                assertEquals("application/json", r.headers().get("Content-Type"));
                JsonNode list = JSON.readTree(r.body());
                List<long[]> got = new ArrayList<>();
                for (JsonNode e : list) {
                    List<String> keys = new ArrayList<>();
                    e.fieldNames().forEachRemaining(keys::add);
                    assertEquals(List.of("start", "length", "dirty", "zero"), keys, e.toString());
                    assertTrue(e.get("start").isIntegralNumber() && e.get("length").isIntegralNumber()
                            && e.get("dirty").isBoolean() && e.get("zero").isBoolean(), e.toString());
                    got.add(new long[] {e.get("start").asLong(), e.get("length").asLong(),
                            e.get("dirty").asBoolean() ? 1 : 0, e.get("zero").asBoolean() ? 1 : 0});
                }
                assertEquals(text(expected), text(got), ticket);
                assertWindowsAreSlices(f, ticket, got);
            }
            ServerFixture.Reply none = f.request(f.data, HttpMethod.GET, "/images/plain/extents?context=dirty", null);
            assertEquals(404, none.status());
            assertEquals("Ticket does not support dirty extents", none.body().strip());
            ServerFixture.Reply info = f.request(f.control, HttpMethod.GET, "/tickets/local", null);
            assertEquals(true, JSON.readTree(info.body()).get("dirty").asBoolean(), info.body());

            // the HTTP source reads the dirty context: its map is nbdinfo's, from either ticket
            for (String ticket : List.of("local", "nbd")) {
                CliOverHttpTest.Run map = CliOverHttpTest.cli("map", "--context", "qemu:dirty-bitmap:" + BITMAP,
                        "--output=json", f.server.imageUrl(ticket));
                assertEquals(0, map.code(), map.err());
                assertEquals(nbdinfo, map.out(), ticket);
            }
            // and an incremental copy from it brings a full copy of the old state up to date
            Path full = dir.resolve("full.raw");
            Path before = dir.resolve("before.qcow2");
            ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", before.toString(), Long.toString(SIZE));
            ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 1 0 4M", before.toString());
            ExternalTool.check("qemu-img", "convert", "-O", "raw", before.toString(), full.toString());
            CliOverHttpTest.Run copy = CliOverHttpTest.cli("copy", "--incremental", f.server.imageUrl("local"),
                    full.toString());
            assertEquals(0, copy.code(), copy.err());
            assertEquals(0, ExternalTool.run("qemu-img", "compare", "-q", "-F", "raw", image.toString(),
                    full.toString()).exitCode(), "the full copy after the increment differs from the image");
        }
    }

    /** {@code start}/{@code length} windows are the whole list's slices, clipped at both ends. */
    private static void assertWindowsAreSlices(ServerFixture f, String ticket, List<long[]> whole) throws Exception {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int i = 0; i < 25; i++) {
            long start = rnd.nextLong(SIZE);
            long length = 1 + rnd.nextLong(SIZE - start + SIZE / 8); // sometimes past the end
            ServerFixture.Reply r = f.request(f.data, HttpMethod.GET, "/images/" + ticket
                    + "/extents?context=dirty&start=" + start + "&length=" + length, null);
            assertEquals(200, r.status(), r.toString());
            List<long[]> got = new ArrayList<>();
            for (JsonNode e : JSON.readTree(r.body())) {
                got.add(new long[] {e.get("start").asLong(), e.get("length").asLong(),
                        e.get("dirty").asBoolean() ? 1 : 0, e.get("zero").asBoolean() ? 1 : 0});
            }
            long end = Math.min(SIZE, start + length);
            List<long[]> slice = new ArrayList<>();
            for (long[] e : whole) {
                if (e[0] + e[1] > start && e[0] < end) {
                    long s = Math.max(start, e[0]);
                    slice.add(new long[] {s, Math.min(end, e[0] + e[1]) - s, e[2], e[3]});
                }
            }
            assertEquals(text(slice), text(got), "start=" + start + " length=" + length);
        }
        ServerFixture.Reply past = f.request(f.data, HttpMethod.GET, "/images/" + ticket
                + "/extents?context=dirty&start=" + (SIZE + 1), null);
        assertEquals(416, past.status());
    }

    private static void addTicket(ServerFixture f, String id, String url, boolean dirty, String bitmap) {
        Ticket t = new Ticket(id, SIZE, url, Set.of("read"), 300, 60, false, "transfer-" + id, null, dirty, bitmap);
        ServerFixture.Reply r = f.request(f.control, HttpMethod.PUT, "/tickets/" + id,
                new String(ImageioJson.toBytes(t.toJson()), StandardCharsets.UTF_8));
        assertEquals(200, r.status(), r.toString());
    }

    /**
     * What ovirt-imageio answers for an NBD export with a bitmap, computed here from nbdinfo's two maps:
     * cut at every boundary of either, dirty from the bitmap, zero from base:allocation's bit 1, equal
     * neighbours merged. Entries: start, length, dirty (0/1), zero (0/1).
     */
    private static List<long[]> expected(String uri) throws Exception {
        JsonNode bitmap = JSON.readTree(ExternalTool.check("nbdinfo", "--map=qemu:dirty-bitmap:" + BITMAP, "--json",
                uri));
        JsonNode allocation = JSON.readTree(ExternalTool.check("nbdinfo", "--map", "--json", uri));
        TreeSet<Long> cuts = new TreeSet<>(List.of(0L, SIZE));
        for (JsonNode map : List.of(bitmap, allocation)) {
            for (JsonNode e : map) {
                cuts.add(e.get("offset").asLong());
            }
        }
        List<long[]> out = new ArrayList<>();
        Iterator<Long> it = cuts.iterator();
        long from = it.next();
        while (it.hasNext()) {
            long to = it.next();
            long dirty = valueAt(bitmap, from) & 1;
            long zero = (valueAt(allocation, from) >> 1) & 1;
            long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last[2] == dirty && last[3] == zero) {
                last[1] += to - from;
            } else {
                out.add(new long[] {from, to - from, dirty, zero});
            }
            from = to;
        }
        return out;
    }

    private static long valueAt(JsonNode map, long offset) {
        for (JsonNode e : map) {
            if (e.get("offset").asLong() <= offset && offset < e.get("offset").asLong() + e.get("length").asLong()) {
                return e.get("type").asLong();
            }
        }
        throw new AssertionError("no entry at " + offset);
    }

    private static List<String> text(List<long[]> extents) {
        return extents.stream().map(e -> e[0] + "+" + e[1] + (e[2] == 1 ? " dirty" : " clean")
                + (e[3] == 1 ? " zero" : "")).toList();
    }
}
