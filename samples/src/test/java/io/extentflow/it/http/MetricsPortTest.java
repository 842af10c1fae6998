package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.testing.TestImages;
import io.extentflow.server.ImageServer;
import io.extentflow.server.cli.ServeCommand;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.RandomAccessFile;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/** {@code extentflow serve --metrics-port}: Prometheus metrics on a loopback port of their own. */
class MetricsPortTest {

    private static final Duration TIMEOUT = ServerFixture.TIMEOUT;

    @TempDir
    Path dir;
    private static ServerFixture.Reply get(HttpClient client, String uri, String range) {
        return client.headers(h -> {
                    if (range != null) {
                        h.set(HttpHeaderNames.RANGE, range);
                    }
                }).get().uri(uri)
                .responseSingle((r, b) -> b.asString().defaultIfEmpty("")
                        .map(t -> new ServerFixture.Reply(r.status().code(), t, r.responseHeaders())))
                .block(TIMEOUT);
    }

    @Test
    void metricsPortServesRequestsBytesActiveTransfersAndLatency() throws Exception {
        Path sock = dir.resolve("ctl.sock");
        Path image = dir.resolve("img.raw");
        long size = 4L << 20;
        TestImages.randomSparseRaw(image, size, 7, 20, 256 << 10);
        Path big = dir.resolve("big.raw");
        try (RandomAccessFile raf = new RandomAccessFile(big.toFile(), "rw")) {
            raf.setLength(1L << 30); // sparse: a stalled download of it cannot fit in socket buffers
        }
        Path target = dir.resolve("target.raw");
        ServeCommand serve = ServeCommand.parse("--port", "0", "--control-socket", sock.toString(),
                "--metrics-port", "0");
        try (ImageServer server = serve.start()) {
            assertTrue(server.metricsPort() > 0);
            assertNotEquals(server.port(), server.metricsPort());
            assertEquals("http://127.0.0.1:" + server.metricsPort() + "/metrics", server.metricsUrl());
            ServerFixture.ticket(0, "add", "--control-socket", sock.toString(), "--id", "r",
                    "--url", "file://" + image, "--size", Long.toString(size), "--ops", "read");
            ServerFixture.ticket(0, "add", "--control-socket", sock.toString(), "--id", "w",
                    "--url", "file://" + target, "--size", Long.toString(size), "--ops", "write");
            ServerFixture.ticket(0, "add", "--control-socket", sock.toString(), "--id", "big",
                    "--url", "file://" + big, "--size", Long.toString(1L << 30), "--ops", "read");
            HttpClient data = HttpClient.create().host("127.0.0.1").port(server.port());
            HttpClient metricsPort = HttpClient.create().host("127.0.0.1").port(server.metricsPort());

            // traffic: two range reads, one upload, one refused request
            assertEquals(206, get(data, "/images/r", "bytes=0-1048575").status());
            assertEquals(206, get(data, "/images/r", "bytes=4096-8191").status());
            byte[] upload = new byte[65536];
            java.util.Arrays.fill(upload, (byte) 7);
            int put = data.headers(h -> h.set(HttpHeaderNames.CONTENT_RANGE, "bytes 0-65535/*")
                            .set(HttpHeaderNames.CONTENT_LENGTH, upload.length))
                    .put().uri("/images/w")
                    .send(Mono.fromSupplier(() -> io.netty.buffer.Unpooled.wrappedBuffer(upload)))
                    .responseSingle((r, b) -> b.then(Mono.just(r.status().code()))).block(TIMEOUT);
            assertEquals(200, put);
            assertEquals(403, get(data, "/images/nope", "bytes=0-1").status());

            // the data port no longer serves metrics; the metrics port serves nothing else
            ServerFixture.Reply onData = get(data, "/metrics", null);
            assertEquals(404, onData.status());
            assertEquals("No handler for '/metrics'\n", onData.body());
            ServerFixture.Reply other = get(metricsPort, "/images/r", null);
            assertEquals(404, other.status());
            assertEquals(1, other.body().lines().count(), other.body());

            // a request is counted when its handling ends, which may be just after the client has the reply
            String requests = "extentflow_server_requests_seconds_count";
            ServerFixture.await("the five data requests counted", () -> new PrometheusText(get(metricsPort, "/metrics", null)
                    .body()).value(requests) == 5);
            PrometheusText m = new PrometheusText(get(metricsPort, "/metrics", null).body());
            assertEquals(2, m.value(requests, "route", "/images/{ticket}", "op", "GET", "status", "206"), m::toString);
            assertEquals(1, m.value(requests, "route", "/images/{ticket}", "op", "PUT", "status", "200"), m::toString);
            assertEquals(1, m.value(requests, "route", "/images/{ticket}", "op", "GET", "status", "403"), m::toString);
            assertEquals(1, m.value(requests, "route", "/metrics", "op", "GET", "status", "404"), m::toString);
            assertTrue(m.value("extentflow_server_requests_seconds_sum", "op", "GET", "status", "206") > 0, m::toString);
            assertTrue(m.value("extentflow_server_requests_seconds_max", "op", "PUT") > 0, m::toString);
            assertEquals((1 << 20) + 4096, m.value("extentflow_server_bytes_total", "op", "read"), m::toString);
            assertEquals(upload.length, m.value("extentflow_server_bytes_total", "op", "write"), m::toString);
            assertTrue(m.has("extentflow_server_operations_active"), m::toString);
            assertEquals(0, m.value("extentflow_server_operations_active"), m::toString);
            assertEquals(0, m.value("extentflow_server_buffers_in_use"), m::toString);
            assertTrue(!m.toString().contains("nope") && !m.toString().contains("/images/r\""),
                    "ticket ids stay out of the metrics");

            // a download in flight is an active transfer until its client goes away
            try (Socket s = ServerFixture.stalledDownload(server.port(), "/images/big")) {
                assertEquals(1, new PrometheusText(get(metricsPort, "/metrics", null).body())
                        .value("extentflow_server_operations_active"));
            }
            ServerFixture.await("transfer ended", () -> new PrometheusText(get(metricsPort, "/metrics", null).body())
                    .value("extentflow_server_operations_active") == 0);
            assertEquals(size, Files.size(target));
        }
    }

    @Test
    void withTlsTheMetricsPortSpeaksHttpsWithTheDataApisCertificate() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        io.extentflow.engine.testing.ExternalTool.check("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key.toString(), "-out", cert.toString());
        ServeCommand serve = ServeCommand.parse("--host", "127.0.0.1", "--port", "0", "--control-socket",
                dir.resolve("ctl.sock").toString(), "--tls-cert", cert.toString(), "--tls-key", key.toString(),
                "--metrics-port", "0");
        try (ImageServer server = serve.start()) {
            assertEquals("https://127.0.0.1:" + server.metricsPort() + "/metrics", server.metricsUrl());
            var trusted = io.netty.handler.ssl.SslContextBuilder.forClient().trustManager(cert.toFile()).build();
            HttpClient https = HttpClient.create().host("127.0.0.1").port(server.metricsPort())
                    .secure(spec -> spec.sslContext(trusted));
            ServerFixture.Reply r = get(https, "/metrics", null);
            assertEquals(200, r.status());
            assertTrue(new PrometheusText(r.body()).has("extentflow_server_operations_active"), r.body());
            // no clear text on the metrics port
            HttpClient plain = HttpClient.create().host("127.0.0.1").port(server.metricsPort());
            org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () -> get(plain, "/metrics", null));
        }
    }
}
