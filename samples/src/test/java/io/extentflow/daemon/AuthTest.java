package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.TestImages;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import io.extentflow.engine.testing.NettyLeaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Requests without the token, or with a wrong one, get 401 and change nothing. */
@ExtendWith(NettyLeaks.class)
class AuthTest {

    @TempDir
    Path dir;

    private static final List<Consumer<HttpHeaders>> BAD = List.of(
            h -> { },
            h -> h.set("Authorization", "Bearer wrong-token"),
            h -> h.set("Authorization", "Basic " + DaemonFixture.TOKEN),
            h -> h.set("Authorization", "Bearer " + DaemonFixture.TOKEN + "x"),
            // the cookie is for reads only: it never authorises a change
            h -> h.set("Cookie", Auth.COOKIE + "=" + DaemonFixture.TOKEN));

    @Test
    void wrongOrMissingTokenIsRefusedAndChangesNothing() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 1 << 20, 41, 50, 64 << 10);
        Path dst = dir.resolve("dst.raw");
        String body = "{\"source\":\"" + src + "\",\"target\":\"" + dst + "\"}";
        try (DaemonFixture f = new DaemonFixture(dir)) {
            String done = f.submit(src.toString(), dir.resolve("first.raw").toString(), null);
            f.awaitResult(done);
            for (Consumer<HttpHeaders> headers : BAD) {
                var post = f.request(HttpMethod.POST, "/v1/copies", body, headers);
                assertEquals(401, post.status(), post.toString());
                assertTrue(post.headers().get("WWW-Authenticate").startsWith("Bearer"));
                assertTrue(post.json().get("error").asText().contains("token"), post.toString());
                var delete = f.request(HttpMethod.DELETE, "/v1/copies/" + done, null, headers);
                assertEquals(401, delete.status(), delete.toString());
            }
            for (Consumer<HttpHeaders> headers : BAD.subList(0, 4)) {
                assertEquals(401, f.request(HttpMethod.GET, "/v1/copies", null, headers).status());
                assertEquals(401, f.request(HttpMethod.GET, "/v1/copies/" + done, null, headers).status());
                assertEquals(401, f.request(HttpMethod.GET, "/v1/copies/" + done + "/events", null, headers).status());
            }
            // nothing changed: one job, still done, and no target written
            var list = f.request(HttpMethod.GET, "/v1/copies", null).json();
            assertEquals(1, list.size());
            assertEquals("done", list.get(0).get("state").asText());
            assertFalse(Files.exists(dst));
            // the page's cookie authorises reads
            var cookieRead = f.request(HttpMethod.GET, "/v1/copies", null,
                    h -> h.set("Cookie", Auth.COOKIE + "=" + DaemonFixture.TOKEN.replace(".", "%2E")));
            assertEquals(200, cookieRead.status(), cookieRead.toString());
        }
    }

    @Test
    void withoutConfiguredTokenTheJobsApiIsRefused() throws Exception {
        try (DaemonFixture f = new DaemonFixture(dir, DaemonConfig.of(dir.resolve("state"), null))) {
            var r = f.request(HttpMethod.GET, "/v1/copies", null);
            assertEquals(403, r.status(), r.toString());
            assertTrue(r.json().get("error").asText().contains("no token configured"), r.toString());
            var post = f.request(HttpMethod.POST, "/v1/copies", "{\"source\":\"/a\",\"target\":\"/b\"}");
            assertEquals(403, post.status());
            assertEquals(0, f.daemon.jobs().list().size());
            // the image server itself still works
            assertEquals(200, f.request(HttpMethod.GET, "/info/", null).status());
        }
    }
}
