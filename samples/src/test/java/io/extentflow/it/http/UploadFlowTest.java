package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.extentflow.engine.imageio.ImageioClientOptions;
import io.extentflow.engine.imageio.ImageioClient;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/**
 * Back-to-back uploads on a few keep-alive connections never stall: each PUT must finish well within
 * a 2 second inactivity timeout, with no retries to hide a stall. (Reactor Netty once left request
 * bodies unread in this pattern; see the comment in ImagesHandler.upload.)
 */
class UploadFlowTest {

    @TempDir
    Path dir;

    @Test
    void backToBackUploadsOnKeepAliveConnections() throws Exception {
        int puts = 32;
        int size = 4 << 20;
        byte[] data = new byte[size];
        new SplittableRandom(8).nextBytes(data);
        try (ServerFixture f = new ServerFixture(dir)) {
            String json = "{\"uuid\":\"u\",\"size\":" + ((long) puts * size) + ",\"url\":\"file://" + dir.resolve("t.raw")
                    + "\",\"timeout\":300,\"inactivity_timeout\":2,\"ops\":[\"write\"]}";
            assertEquals(200, f.request(f.control, HttpMethod.PUT, "/tickets/u", json).status());
            try (ImageioClient client = ImageioClient.create(f.server.imageUrl("u"),
                    ImageioClientOptions.defaults().withConnections(4).withRetries(0))) {
                Flux.range(0, puts)
                        .flatMap(i -> client.write((long) i * size, ByteBuffer.wrap(data), false), 16)
                        .blockLast(ServerFixture.TIMEOUT);
            }
            assertEquals(0, f.server.buffersInUse());
        }
    }
}
