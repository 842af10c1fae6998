package io.extentflow.sources.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.imageio.FakeImageioServer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * How the HTTP source gets extents from servers that are not ours: the reference server's
 * whole-image list (fetched once), a server that ignores start/length, a server without extents.
 * Our own server is covered end to end in the samples module.
 */
class HttpSourceTest {

    private static final Duration T = Duration.ofSeconds(30);
    private static final int SIZE = 1 << 20;

    private static List<Extent> layout() {
        List<Extent> out = new ArrayList<>();
        for (int off = 0; off < SIZE; off += 65536) {
            out.add(off / 65536 % 2 == 0 ? Extent.data(off, 65536) : Extent.zero(off, 65536));
        }
        return out;
    }

    private static byte[] image() {
        byte[] b = new byte[SIZE];
        new Random(2).nextBytes(b);
        return b;
    }

    @Test
    void referenceServerExtentsAreFetchedOnceAndServedFromMemory() {
        try (FakeImageioServer fake = new FakeImageioServer(image(), layout(), FakeImageioServer.upstream());
             HttpSource src = HttpSource.open(fake.url(), EndpointOptions.defaults(), 128 << 10).block(T)) {
            assertEquals(SIZE, src.size());
            assertEquals(layout(), src.extents(0, SIZE).collectList().block(T));
            // an unaligned window, clipped and served from the cached list
            assertEquals(List.of(Extent.data(1000, 64536), Extent.zero(65536, 65536), Extent.data(131072, 1)),
                    src.extents(1000, 131073 - 1000).collectList().block(T));
            assertEquals(1, fake.requests("EXTENTS"), "the size and every extents() call share one request");
        }
    }

    @Test
    void serverIgnoringTheRangeIsDetected() {
        var behaviour = new FakeImageioServer.Behaviour(List.of("extents", "extents-range"), true, false, 4);
        try (FakeImageioServer fake = new FakeImageioServer(image(), layout(), behaviour);
             HttpSource src = HttpSource.open(fake.url(), EndpointOptions.defaults(), 128 << 10).block(T)) {
            assertEquals(layout(), src.extents(0, SIZE).collectList().block(T));
            assertEquals(layout().subList(4, 6), src.extents(4 * 65536, 2 * 65536).collectList().block(T));
            // the first window showed the whole list; at most the prefetched next window was asked too
            assertTrue(fake.requests("EXTENTS") <= 2, "requests: " + fake.requests("EXTENTS"));
        }
    }

    @Test
    void serverHonouringTheRangeIsAskedInWindows() {
        var behaviour = new FakeImageioServer.Behaviour(List.of("extents", "extents-range"), true, true, 4);
        try (FakeImageioServer fake = new FakeImageioServer(image(), layout(), behaviour);
             HttpSource src = HttpSource.open(fake.url(), EndpointOptions.defaults(), 128 << 10).block(T)) {
            assertEquals(layout(), src.extents(0, SIZE).collectList().block(T));
            assertEquals(SIZE / (128 << 10), fake.requests("EXTENTS"));
        }
    }

    @Test
    void serverWithoutExtentsGivesOneDataExtentAndReads() {
        var behaviour = new FakeImageioServer.Behaviour(List.of(), false, false, 1);
        byte[] img = image();
        try (FakeImageioServer fake = new FakeImageioServer(img, layout(), behaviour);
             HttpSource src = HttpSource.open(fake.url(), EndpointOptions.defaults(), 128 << 10).block(T)) {
            assertEquals(SIZE, src.size());
            assertEquals(List.of(Extent.data(0, SIZE)), src.extents(0, SIZE).collectList().block(T));
            ByteBuffer buf = ByteBuffer.allocateDirect(4096);
            src.read(SIZE - 4096, buf).block(T);
            assertEquals(ByteBuffer.wrap(img, SIZE - 4096, 4096), buf.flip());
            assertEquals(0, fake.requests("EXTENTS"));
        }
    }
}
