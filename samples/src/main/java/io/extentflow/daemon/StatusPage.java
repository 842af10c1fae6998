package io.extentflow.daemon;

import io.extentflow.engine.io.BlockingIo;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The status page: static HTML, CSS and vanilla JavaScript from the class path
 * ({@code io/extentflow/daemon/ui/}), read once at start. The page holds no data; it asks the jobs
 * API with the token the user gives it.
 */
final class StatusPage {

    private static final Map<String, String> FILES = Map.of(
            "/", "status.html",
            "/ui/status.js", "status.js",
            "/ui/status.css", "status.css");

    private final Map<String, byte[]> content;

    private StatusPage(Map<String, byte[]> content) {
        this.content = content;
    }

    /** Reads the page's files (on the file I/O scheduler). */
    static Mono<StatusPage> load() {
        return BlockingIo.call(() -> {
            Map<String, byte[]> out = new java.util.HashMap<>();
            for (var e : FILES.entrySet()) {
                try (InputStream in = StatusPage.class.getResourceAsStream("ui/" + e.getValue())) {
                    if (in == null) {
                        throw new IOException("status page resource missing: " + e.getValue());
                    }
                    out.put(e.getKey(), in.readAllBytes());
                }
            }
            return new StatusPage(Map.copyOf(out));
        });
    }

    /** True for the paths of the page. */
    boolean serves(String path) {
        return content.containsKey(path) || path.equals("/index.html");
    }

    Mono<Void> handle(HttpServerRequest req, HttpServerResponse resp, String path) {
        String key = path.equals("/index.html") ? "/" : path;
        byte[] body = content.get(key);
        if (!req.method().name().equals("GET") && !req.method().name().equals("HEAD")) {
            resp.status(405).header(HttpHeaderNames.ALLOW, "GET, HEAD");
            return resp.header(HttpHeaderNames.CONTENT_LENGTH, "0").send();
        }
        String type = key.endsWith(".js") ? "text/javascript; charset=utf-8"
                : key.endsWith(".css") ? "text/css; charset=utf-8" : "text/html; charset=utf-8";
        return resp.header(HttpHeaderNames.CONTENT_TYPE, type)
                .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(body.length))
                .header(HttpHeaderNames.CACHE_CONTROL, "no-cache")
                .header("Content-Security-Policy", "default-src 'self'; connect-src 'self'")
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body)))
                .then();
    }
}
