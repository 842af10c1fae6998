package io.extentflow.sources.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.Extent;
import io.extentflow.engine.ForwardingImageSource;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.NetworkOptions;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.OwnNbdServer;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sources.ChainOptions;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Extents of NBD sources (qemu-nbd, nbdkit, extentflow's own server) equal {@code nbdinfo --map --json} (whole exports and random windows), read
 * data equals the served file, and allocation depth turns into holes.
 */
@ExtendWith(NettyLeaks.class)
class NbdSourceTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    /** nbdinfo's base:allocation map as extents: ZERO bit means zero, both bits a hole. */
    private static List<Extent> nbdinfoExtents(String uri) throws Exception {
        JsonNode map = JSON.readTree(ExternalTool.check("nbdinfo", "--map", "--json", uri));
        List<Extent> out = new ArrayList<>();
        for (JsonNode e : map) {
            int type = e.get("type").asInt();
            long off = e.get("offset").asLong();
            long len = e.get("length").asLong();
            out.add(type == 3 ? Extent.hole(off, len) : type == 2 ? Extent.zero(off, len) : Extent.data(off, len));
        }
        return merge(out);
    }

    private static List<Extent> merge(List<Extent> in) {
        List<Extent> out = new ArrayList<>();
        for (Extent e : in) {
            int last = out.size() - 1;
            if (last >= 0 && out.get(last).sameKind(e) && out.get(last).end() == e.start()) {
                out.set(last, out.get(last).withRange(out.get(last).start(), out.get(last).length() + e.length()));
            } else {
                out.add(e);
            }
        }
        return out;
    }

    private static List<Extent> clip(List<Extent> all, long start, long end) {
        List<Extent> out = new ArrayList<>();
        for (Extent e : all) {
            if (e.end() > start && e.start() < end) {
                out.add(e.clip(start, end));
            }
        }
        return out;
    }

    private void assertExtentsMatchNbdinfo(String uri, long window) throws Exception {
        assertExtentsMatchNbdinfo(uri, window, true);
    }

    /**
     * @param randomWindows also compare random windows with nbdinfo's map clipped to them; only for
     *                      servers whose answer does not depend on where a query starts
     */
    private void assertExtentsMatchNbdinfo(String uri, long window, boolean randomWindows) throws Exception {
        List<Extent> expected = nbdinfoExtents(uri);
        NbdSource src = NbdSource.open(NbdAddress.parse(uri), NbdClientOptions.defaults(), false).block(WAIT);
        try {
            // a small window forces many block status calls and merging across windows
            NbdSource windowed = new NbdSource(src.client(), false, window);
            assertEquals(expected, windowed.extents(0, src.size()).collectList().block(WAIT), "whole export");
            SplittableRandom rnd = new SplittableRandom(42);
            for (int i = 0; randomWindows && i < 20; i++) {
                long start = rnd.nextLong(src.size());
                long length = 1 + rnd.nextLong(src.size() - start);
                assertEquals(clip(expected, start, start + length),
                        windowed.extents(start, length).collectList().block(WAIT),
                        "window " + start + "+" + length);
            }
        } finally {
            src.close();
        }
    }

    @Test
    void closeGracefullyCompletesOnceEveryConnectionIsClosed() throws Exception {
        var s = servers.nbdkit(dir, "memory", "16M");
        NbdSource src = NbdSource.open(NbdAddress.parse(s.uri()), NbdClientOptions.defaults(), false).block(WAIT);
        assertTrue(src.client().openConnections() > 0);
        src.closeGracefully().block(WAIT);
        assertEquals(0, src.client().openConnections());
    }

    @Test
    void sparseRandomExtentsMatchNbdinfo() throws Exception {
        for (int seed : new int[] {1, 2}) {
            var s = servers.nbdkit(dir, "sparse-random", "64M", "seed=" + seed, "percent=20", "runlength=131072");
            assertExtentsMatchNbdinfo(s.uri(), 3 << 20);
        }
    }

    @Test
    void nbdkitDataLayoutWithWrittenZerosMatchesNbdinfoAndReadsBack() throws Exception {
        // bytes 1 at 0, 32 KiB and 64 KiB; an allocated zero byte at 200000 (a "zero" extent)
        var s = servers.nbdkit(dir, "data", "1 @32768 1 @65536 1 @200000 0", "size=1M");
        // nbdkit's data plugin answers per 32 KiB page from the offset asked (a query from inside a
        // page sees only the zeros after its data), so random windows are checked against the
        // content instead of nbdinfo's map from offset 0.
        assertExtentsMatchNbdinfo(s.uri(), 64 << 10, false);
        try (ImageSource src = Endpoints.source(s.uri()).block(WAIT)) {
            List<Extent> extents = src.extents(0, src.size()).collectList().block(WAIT);
            assertTrue(extents.stream().anyMatch(e -> e.zero() && !e.hole()), "a zero extent: " + extents);
            ByteBuffer b = ByteBuffer.allocate(1 << 20);
            src.read(0, b).block(WAIT);
            for (int i = 0; i < b.capacity(); i++) {
                int want = i == 0 || i == 32768 || i == 65536 ? 1 : 0;
                assertEquals(want, b.get(i), "byte " + i);
            }
            SplittableRandom rnd = new SplittableRandom(43);
            for (int i = 0; i < 50; i++) {
                long start = rnd.nextLong(src.size());
                long length = 1 + rnd.nextLong(src.size() - start);
                long at = start;
                for (Extent e : src.extents(start, length).collectList().block(WAIT)) {
                    assertEquals(at, e.start());
                    for (long p = e.start(); e.zero() && p < e.end(); p++) {
                        assertEquals(0, b.get((int) p), "zero extent " + e + " holds data at " + p);
                    }
                    at = e.end();
                }
                assertEquals(start + length, at);
            }
        }
    }

    /**
     * {@code image} served read-only by {@code server}: {@code qemu-nbd -e 4 -r -f FORMAT} ({@code -A} with
     * {@code depth}), or extentflow's own server in this JVM, so the source is checked against both.
     * Without {@code depth} our server gets the file behind a plain wrapper, which hides the host map
     * it would offer {@code qemu:allocation-depth} from, as qemu-nbd without {@code -A} offers none.
     */
    private String serve(String server, Path image, String format, boolean depth) throws Exception {
        if (server.equals("qemu-nbd")) {
            return (depth ? servers.qemuNbd(dir, "-A", "-e", "4", "-r", "-f", format, image.toString())
                    : servers.qemuNbd(dir, "-e", "4", "-r", "-f", format, image.toString())).uri();
        }
        ImageSource source = Endpoints.source(image.toString()).block(WAIT);
        ForwardingImageSource plain = () -> source;
        OwnNbdServer own = OwnNbdServer.serve(dir, depth ? source : plain, null);
        ownServers.add(own);
        return own.uri();
    }

    private final List<OwnNbdServer> ownServers = new ArrayList<>();

    @AfterEach
    void stopOwnServers() {
        ownServers.forEach(OwnNbdServer::close);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qemu-nbd", "extentflow"})
    void rawExtentsMatchNbdinfoAndDataMatchesTheFile(String server) throws Exception {
        Path raw = dir.resolve("a.raw");
        TestImages.randomSparseRaw(raw, 24 << 20, 9, 35, 512 << 10);
        String uri = serve(server, raw, "raw", false);
        assertExtentsMatchNbdinfo(uri, 1 << 20);

        try (ImageSource src = Endpoints.source(uri).block(WAIT);
             FileChannel file = FileChannel.open(raw)) {
            assertEquals("raw", src.format());
            ByteBuffer got = ByteBuffer.allocateDirect(24 << 20);
            src.read(0, got).block(WAIT);
            ByteBuffer want = ByteBuffer.allocateDirect(24 << 20);
            while (want.hasRemaining()) {
                file.read(want, want.position());
            }
            assertEquals(-1, got.flip().mismatch(want.flip()), "content read through qemu-nbd (hole chunks)");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qemu-nbd", "extentflow"})
    void allocationDepthMakesUnallocatedClustersHolesAndBackingRangesSkippableForTopLayerOnly(String server)
            throws Exception {
        Path base = dir.resolve("base.qcow2");
        Path top = dir.resolve("top.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", base.toString(), "4M");
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 1 0 1M", base.toString());
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2",
                top.toString());
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 2 512k 64k", "-c", "write -z 2M 64k",
                top.toString());
        String uri = serve(server, top, "qcow2", true);

        try (ImageSource whole = Endpoints.source(uri).block(WAIT)) {
            assertEquals(List.of(Extent.data(0, 1 << 20), Extent.hole(1 << 20, 1 << 20),
                            Extent.zero(2 << 20, 64 << 10), Extent.hole((2 << 20) + (64 << 10), (2 << 20) - (64 << 10))),
                    whole.extents(0, whole.size()).collectList().block(WAIT));
        }
        try (ImageSource topOnly = Endpoints.source(uri, EndpointOptions.defaults().with(ChainOptions.TOP_LAYER_ONLY, true))
                .block(WAIT)) {
            Extent backing = new Extent(0, 512 << 10, false, true);
            Extent backing2 = new Extent((512 << 10) + (64 << 10), (512 << 10) - (64 << 10), false, true);
            assertEquals(List.of(backing, Extent.data(512 << 10, 64 << 10), backing2, Extent.hole(1 << 20, 1 << 20),
                            Extent.zero(2 << 20, 64 << 10), Extent.hole((2 << 20) + (64 << 10), (2 << 20) - (64 << 10))),
                    topOnly.extents(0, topOnly.size()).collectList().block(WAIT));
        }
    }

    @Test
    void withoutBlockStatusEverythingIsData() throws Exception {
        var s = servers.nbdkit(dir, "--filter=noextents", "memory", "8M");
        try (ImageSource src = Endpoints.source(s.uri()).block(WAIT)) {
            assertEquals(List.of(Extent.data(4096, 1 << 20)), src.extents(4096, 1 << 20).collectList().block(WAIT));
        }
    }

    @Test
    void sizeAndDetailsComeFromTheHandshake() throws Exception {
        var s = servers.nbdkit(dir, "--filter=blocksize-policy", "memory", "16M", "blocksize-minimum=512",
                "blocksize-preferred=65536", "blocksize-maximum=1M");
        try (ImageSource src = Endpoints.source(s.uri(), EndpointOptions.defaults().with(NetworkOptions.CONNECTIONS, 4)).block(WAIT)) {
            assertEquals(16 << 20, src.size());
            assertEquals(512, src.details().get("block-size-minimum"));
            assertEquals(1 << 20, src.details().get("block-size-maximum"));
            assertEquals(4, src.details().get("connections"));
            // a 3 MiB read is split at the 1 MiB maximum payload
            ByteBuffer b = ByteBuffer.allocateDirect(3 << 20);
            src.read(512, b).block(WAIT);
            assertEquals(b.limit(), b.position());
            assertTrue(src.details().get("contexts").toString().contains("base:allocation"));
            // extents from an offset inside a minimum block: asked from the block's start, cut to ours
            src.extents(0, 4096).collectList().block(WAIT);
            assertEquals(List.of(Extent.hole(100, 1000)), src.extents(100, 1000).collectList().block(WAIT));
        }
    }
}
