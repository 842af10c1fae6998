package io.extentflow.engine.imageio;

import io.extentflow.engine.Extent;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * An in-memory imageio server for what our own server never does: behave like the reference server
 * (no {@code size} in OPTIONS, extents parameters ignored), lack features, or fail on purpose (5xx
 * replies, dropped connections). Only for fault injection and legacy behaviour; everything else is
 * tested against our real server.
 */
public final class FakeImageioServer implements AutoCloseable {

    /** What the fake offers and how it misbehaves. */
    public record Behaviour(List<String> features, boolean announceSize, boolean honourExtentsRange,
                            int maxConnections) {
    }

    /** The reference server: extents, zero and flush, no size, extents always for the whole image. */
    public static Behaviour upstream() {
        return new Behaviour(List.of("checksum", "extents", "flush", "zero"), false, false, 8);
    }

    private final byte[] image;
    private final List<Extent> extents;
    private final Behaviour behaviour;
    private final DisposableServer server;
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final AtomicInteger failNext = new AtomicInteger();
    private volatile int failStatus = 503;
    private final AtomicInteger dropNext = new AtomicInteger();
    private final AtomicLong flushes = new AtomicLong();

    /**
     * @param image   the image bytes (PUT and zero change them)
     * @param extents what {@code /extents} answers (whole image)
     */
    public FakeImageioServer(byte[] image, List<Extent> extents, Behaviour behaviour) {
        this.image = image;
        this.extents = extents;
        this.behaviour = behaviour;
        this.server = HttpServer.create().host("127.0.0.1").port(0).handle(this::handle)
                .bindNow(Duration.ofSeconds(10));
    }

    /** {@code http://127.0.0.1:<port>/images/fake}. */
    public String url() {
        return "http://127.0.0.1:" + server.port() + "/images/fake";
    }

    /** The next {@code n} requests get {@code status} with a one-line body. */
    public void failNext(int n, int status) {
        failStatus = status;
        failNext.set(n);
    }

    /** The next {@code n} requests get no reply: the connection is closed. */
    public void dropNext(int n) {
        dropNext.set(n);
    }

    /** Requests seen, by kind: {@code OPTIONS}, {@code GET}, {@code PUT}, {@code PATCH}, {@code EXTENTS}. */
    public int requests(String kind) {
        AtomicInteger c = requests.get(kind);
        return c == null ? 0 : c.get();
    }

    public long flushes() {
        return flushes.get();
    }

    public byte[] image() {
        return image;
    }

    private Mono<Void> handle(HttpServerRequest req, HttpServerResponse resp) {
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        boolean extentsPath = q.path().endsWith("/extents");
        String kind = extentsPath ? "EXTENTS" : req.method().name();
        requests.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
        if (dropNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return req.receive().then().then(Mono.fromRunnable(() -> req.withConnection(c -> c.dispose())));
        }
        if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return req.receive().then(text(resp.status(failStatus), "injected failure\n"));
        }
        if (req.method().equals(HttpMethod.OPTIONS)) {
            boolean writable = behaviour.features.contains("zero") || behaviour.features.contains("flush");
            resp.header(HttpHeaderNames.ALLOW, writable ? "OPTIONS,GET,PUT,PATCH" : "OPTIONS,GET");
            StringBuilder json = new StringBuilder("{\"features\":[");
            for (int i = 0; i < behaviour.features.size(); i++) {
                json.append(i == 0 ? "" : ",").append('"').append(behaviour.features.get(i)).append('"');
            }
            json.append("],\"max_readers\":").append(behaviour.maxConnections)
                    .append(",\"max_writers\":").append(behaviour.maxConnections);
            if (behaviour.announceSize) {
                json.append(",\"size\":").append(image.length);
            }
            return text(resp, json.append("}\n").toString());
        }
        if (extentsPath) {
            long start = 0;
            long end = image.length;
            if (behaviour.honourExtentsRange && q.parameters().containsKey("start")) {
                start = Long.parseLong(q.parameters().get("start").get(0));
                end = Math.min(end, start + Long.parseLong(q.parameters().get("length").get(0)));
            }
            StringBuilder json = new StringBuilder("[");
            for (Extent e : extents) {
                if (e.end() > start && e.start() < end) {
                    ImageioJson.appendExtent(json.length() > 1 ? json.append(',') : json, e.clip(start, end));
                }
            }
            return text(resp, json.append("]\n").toString());
        }
        if (req.method().equals(HttpMethod.GET)) {
            String range = req.requestHeaders().get(HttpHeaderNames.RANGE, "bytes=0-" + (image.length - 1));
            String[] ab = range.substring("bytes=".length()).split("-");
            int a = Integer.parseInt(ab[0]);
            int b = ab.length > 1 ? Integer.parseInt(ab[1]) : image.length - 1;
            resp.status(206).header(HttpHeaderNames.CONTENT_RANGE, "bytes " + a + "-" + b + "/" + image.length)
                    .header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(b - a + 1));
            return resp.send(Mono.fromSupplier(() -> Unpooled.copiedBuffer(image, a, b - a + 1))).then();
        }
        if (req.method().equals(HttpMethod.PUT)) {
            String cr = req.requestHeaders().get(HttpHeaderNames.CONTENT_RANGE, "bytes 0-0/*");
            int offset = Integer.parseInt(cr.substring("bytes ".length(), cr.indexOf('-')));
            int[] pos = {offset};
            if ("y".equals(q.parameters().getOrDefault("flush", List.of("y")).get(0))) {
                flushes.incrementAndGet();
            }
            return req.receive().doOnNext(buf -> {
                int n = buf.readableBytes();
                buf.readBytes(image, pos[0], n);
                pos[0] += n;
            }).then(Mono.defer(() -> text(resp, "")));
        }
        if (req.method().equals(HttpMethod.PATCH)) {
            return req.receive().aggregate().asString().flatMap(body -> {
                try {
                    var msg = ImageioJson.MAPPER.readTree(body);
                    if (msg.get("op").asText().equals("zero")) {
                        int off = msg.path("offset").asInt(0);
                        java.util.Arrays.fill(image, off, off + msg.get("size").asInt(), (byte) 0);
                    } else {
                        flushes.incrementAndGet();
                    }
                    return text(resp, "");
                } catch (Exception e) {
                    return text(resp.status(400), "bad patch\n");
                }
            });
        }
        return text(resp.status(405), "no\n");
    }

    private static Mono<Void> text(HttpServerResponse resp, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return resp.header(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(b.length))
                .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(b))).then();
    }

    @Override
    public void close() {
        server.disposeNow();
    }
}
