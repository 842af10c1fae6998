package io.extentflow.it.http;

import io.extentflow.cli.Extentflow;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.engine.imageio.ImageioJson;
import io.extentflow.engine.imageio.Ticket;
import io.extentflow.server.ImageServer;
import io.extentflow.server.ServerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpMethod;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An image server started in the test JVM on an ephemeral loopback port, with its control API on a
 * Unix socket, plus plain HTTP clients for both APIs.
 */
final class ServerFixture implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(30);

    /**
     * Runs {@code extentflow ticket ARGS...} in this JVM and asserts its exit code; what the command
     * printed is in the failure message.
     */
    static void ticket(int expectedExit, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("ticket"));
        all.addAll(List.of(args));
        StringWriter printed = new StringWriter();
        PrintWriter out = new PrintWriter(printed, true);
        int exit = Extentflow.execute(new Console(out, out), all.toArray(String[]::new));
        assertEquals(expectedExit, exit, () -> String.join(" ", all) + " printed: " + printed);
    }

    final ImageServer server;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final HttpClient control;
    final HttpClient data;
    /**
     * The clients' own connections, closed with the fixture: with Reactor Netty's global pool, a
     * kept-alive connection to an earlier test's server could be handed to a later one that got
     * the same port (a first OPTIONS once went unanswered for 30 s in CI).
     */
    private final ConnectionProvider connections = ConnectionProvider.create("server-fixture", 16);

    ServerFixture(Path dir) {
        this(dir, ServerConfig.defaults().withPort(0));
    }

    ServerFixture(Path dir, ServerConfig config) {
        server = ImageServer.start(config.withControlSocket(dir.resolve("control.sock")), registry, null)
                .block(TIMEOUT);
        control = HttpClient.create(connections).remoteAddress(server::controlAddress);
        data = HttpClient.create(connections).host("127.0.0.1").port(server.port());
    }

    /** A reply: status, headers of interest and body. */
    record Reply(int status, String body, io.netty.handler.codec.http.HttpHeaders headers) {
    }

    /** PUTs a ticket through the control API and checks the 200. */
    String addTicket(String id, Path image, long size, String... ops) {
        Ticket t = new Ticket(id, size, "file://" + image.toAbsolutePath(), Set.of(ops), 300, 60, false,
                "transfer-" + id, null);
        Reply r = request(control, HttpMethod.PUT, "/tickets/" + id, new String(ImageioJson.toBytes(t.toJson()),
                StandardCharsets.UTF_8));
        if (r.status() != 200) {
            throw new AssertionError("adding ticket failed: " + r);
        }
        return server.imageUrl(id);
    }

    Reply request(HttpClient client, HttpMethod method, String uri, String body) {
        return request(client, method, uri, body, h -> { });
    }

    Reply request(HttpClient client, HttpMethod method, String uri, String body,
                  java.util.function.Consumer<io.netty.handler.codec.http.HttpHeaders> headers) {
        HttpClient c = client.headers(headers);
        var sender = c.request(method).uri(uri);
        var response = body == null ? sender : sender.send(Mono.fromSupplier(
                () -> Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8))));
        return response.responseSingle((resp, bytes) -> bytes.asString().defaultIfEmpty("")
                        .map(text -> new Reply(resp.status().code(), text, resp.responseHeaders())))
                .block(TIMEOUT);
    }

    /** The sum of the counters (or timers' counts) called {@code name} having {@code tags}. */
    double counter(String name, String... tags) {
        var found = registry.find(name).tags(tags);
        return found.counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum()
                + found.timers().stream().mapToDouble(io.micrometer.core.instrument.Timer::count).sum();
    }

    List<String> lines(String text) {
        return text.lines().toList();
    }

    /** Waits (polling every 10 ms, at most 20 s) until {@code condition} holds; server state has no events to wait on. */
    static void await(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting: " + what);
            }
            Mono.delay(Duration.ofMillis(10)).block();
        }
    }

    /**
     * A client on a plain socket that sends a GET, reads the first bytes of the reply and then stops
     * reading: the server's writes back up once the socket buffers are full.
     */
    static java.net.Socket stalledDownload(int port, String uri) throws java.io.IOException {
        java.net.Socket s = new java.net.Socket("127.0.0.1", port);
        s.setReceiveBufferSize(64 << 10);
        s.getOutputStream().write(("GET " + uri + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        s.getInputStream().readNBytes(4096);
        return s;
    }

    /** Reads what is left until the server closes the connection (20 s at most); returns the bytes read. */
    static long readUntilClosed(java.net.Socket s) throws java.io.IOException {
        s.setSoTimeout(20_000);
        long n = 0;
        try (java.io.InputStream in = s.getInputStream()) {
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                n += r;
            }
        } catch (java.net.SocketException reset) {
            // the server closed with unread data: a reset is as good as an end
        }
        return n;
    }

    @Override
    public void close() {
        server.close();
        connections.disposeLater().block(TIMEOUT);
    }
}
