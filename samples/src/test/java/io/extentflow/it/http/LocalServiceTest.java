package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.imageio.ImageOptions;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.server.ServerConfig;
import io.extentflow.sinks.http.HttpSink;
import io.extentflow.sources.http.HttpSource;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local service (ovirt-imageio's {@code unix_socket}): the server announces its Unix socket in
 * OPTIONS, and clients on the same host move the data through it.
 */
class LocalServiceTest {

    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    private ServerFixture server(boolean local) {
        ServerConfig config = ServerConfig.defaults().withPort(0);
        return new ServerFixture(dir, local ? config.withLocalSocket(dir.resolve("local.sock")) : config);
    }

    private ImageOptions options(ServerFixture f, String id) throws Exception {
        ServerFixture.Reply r = f.request(f.data, HttpMethod.OPTIONS, "/images/" + id, null);
        assertEquals(200, r.status(), r.body());
        return ImageOptions.parse(r.headers().get("Allow"), r.body().getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void downloadAndUploadGoThroughTheAnnouncedUnixSocket() throws Exception {
        Path image = dir.resolve("src.raw");
        TestImages.randomSparseRaw(image, SIZE, 21, 40, 256 << 10);
        Path uploaded = dir.resolve("uploaded.raw");
        Files.write(uploaded, new byte[(int) SIZE]);
        try (ServerFixture f = server(true)) {
            String down = f.addTicket("down", image, SIZE, "read");
            String up = f.addTicket("up", uploaded, SIZE, "read", "write");
            assertEquals(dir.resolve("local.sock").toString(), options(f, "down").unixSocket());
            Path target = dir.resolve("downloaded.raw");
            try (ImageSource src = Endpoints.source(down).block(ServerFixture.TIMEOUT);
                 ImageSink dst = Endpoints.sink(target.toString(), src.size()).block(ServerFixture.TIMEOUT)) {
                assertTrue(((HttpSource) src).details().get("transport").toString().contains("unix socket"),
                        src.details().toString());
                Copy.from(src).to(dst).run().block(ServerFixture.TIMEOUT);
            }
            TestImages.assertSameContent(image, target);
            try (ImageSource src = Endpoints.source(image.toString()).block(ServerFixture.TIMEOUT);
                 ImageSink dst = Endpoints.sink(up, SIZE).block(ServerFixture.TIMEOUT)) {
                assertTrue(((HttpSink) dst).local());
                Copy.from(src).to(dst).run().block(ServerFixture.TIMEOUT);
            }
            TestImages.assertSameContent(image, uploaded);
            // one request for the whole image each way, as sparse streams, through the socket too
            Path streamed = dir.resolve("streamed.raw");
            EndpointOptions stream = EndpointOptions.defaults().with(HttpOptions.HTTP_STREAM, true);
            try (ImageSource src = Endpoints.source(down, stream).block(ServerFixture.TIMEOUT);
                 ImageSink dst = Endpoints.sink(streamed.toString(), src.size()).block(ServerFixture.TIMEOUT)) {
                Copy.from(src).to(dst).run().block(ServerFixture.TIMEOUT);
            }
            TestImages.assertSameContent(image, streamed);
            assertEquals(0, f.server.buffersInUse());
        }
    }

    @Test
    void withoutALocalServiceOrItsSocketTheTransferStaysOnTcp() throws Exception {
        Path image = dir.resolve("src.raw");
        TestImages.randomSparseRaw(image, SIZE, 22, 20, 256 << 10);
        try (ServerFixture f = server(false)) {
            String url = f.addTicket("t", image, SIZE, "read");
            assertNull(options(f, "t").unixSocket());
            try (ImageSource src = Endpoints.source(url).block(ServerFixture.TIMEOUT)) {
                assertEquals("tcp", src.details().get("transport"));
            }
        }
        try (ServerFixture f = server(true)) {
            String url = f.addTicket("t", image, SIZE, "read");
            // announced, but not on this machine's file system (e.g. the server runs in a container)
            Files.delete(dir.resolve("local.sock"));
            Path target = dir.resolve("dst.raw");
            try (ImageSource src = Endpoints.source(url).block(ServerFixture.TIMEOUT);
                 ImageSink dst = Endpoints.sink(target.toString(), src.size()).block(ServerFixture.TIMEOUT)) {
                assertEquals("tcp", src.details().get("transport"));
                assertFalse(src.details().toString().contains("unix"));
                Copy.from(src).to(dst).run().block(ServerFixture.TIMEOUT);
            }
            TestImages.assertSameContent(image, target);
        }
    }
}
