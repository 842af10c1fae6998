package io.extentflow.it.http;

import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.server.cli.ServeCommand;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.server.ServerConfig;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** https with a self-signed certificate made by openssl, and the daemon's command line. */
class ServeAndTlsTest {

    @TempDir
    Path dir;

    @Test
    void downloadOverHttpsWithOurCa() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        ExternalTool.check("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", key.toString(), "-out", cert.toString());
        long size = 4L << 20;
        Path image = dir.resolve("img.raw");
        TestImages.randomSparseRaw(image, size, 5, 50, 256 << 10);
        ServerConfig config = ServerConfig.defaults().withHost("127.0.0.1").withPort(0).withTls(cert, key);
        try (ServerFixture f = new ServerFixture(dir, config)) {
            String url = f.addTicket("tls", image, size, "read");
            assertTrue(url.startsWith("https://127.0.0.1:"), url);
            assertTrue(f.server.notice().startsWith("https"), f.server.notice());
            Path out = dir.resolve("out.raw");
            try (ImageSource src = Endpoints.source(url, EndpointOptions.defaults().with(HttpOptions.CA_FILE, cert))
                    .block(ServerFixture.TIMEOUT);
                 ImageSink dst = Endpoints.sink(out.toString(), size).block(ServerFixture.TIMEOUT)) {
                Copy.from(src).to(dst).run().block(ServerFixture.TIMEOUT);
            }
            TestImages.assertSameContent(image, out);
            // without our CA the certificate is not trusted; --insecure skips the check
            ImageIoException untrusted = assertThrows(ImageIoException.class,
                    () -> Endpoints.source(url).block(ServerFixture.TIMEOUT));
            assertTrue(untrusted.getMessage().contains(url), untrusted.getMessage());
            try (ImageSource insecure = Endpoints.source(url, EndpointOptions.defaults().with(HttpOptions.INSECURE, true))
                    .block(ServerFixture.TIMEOUT)) {
                assertEquals(size, insecure.size());
            }
        }
    }

    @Test
    void serveAndTicketCommands() throws Exception {
        Path sock = dir.resolve("ctl.sock");
        ServeCommand serve = ServeCommand.parse("--port", "0", "--control-socket", sock.toString(),
                "--max-readers", "3");
        Path image = java.nio.file.Files.write(dir.resolve("a.raw"), new byte[8192]);
        try (var server = serve.start()) {
            assertTrue(server.notice().contains("127.0.0.1 only"), server.notice());
            ServerFixture.ticket(0, "add", "--control-socket", sock.toString(), "--id", "cli",
                    "--url", "file://" + image, "--size", "8192", "--ops", "read,write");
            ServerFixture.ticket(0, "show", "--control-socket", sock.toString(), "cli");
            ServerFixture.ticket(0, "extend", "--control-socket", sock.toString(), "cli", "--timeout", "60");

            var data = reactor.netty.http.client.HttpClient.create().host("127.0.0.1").port(server.port());
            String options = data.options().uri("/images/cli").responseSingle((r, b) -> b.asString())
                    .block(ServerFixture.TIMEOUT);
            assertTrue(options.contains("\"max_readers\":3"), options);
            // a request is counted when its handling ends, which may be just after the client has the reply
            ServerFixture.await("OPTIONS counted", () -> data.get().uri("/metrics")
                    .responseSingle((r, b) -> b.asString()).block(ServerFixture.TIMEOUT)
                    .contains("extentflow_server_requests_seconds_count{op=\"OPTIONS\","
                            + "route=\"/images/{ticket}\",status=\"200\"} 1"));

            ServerFixture.ticket(0, "delete", "--control-socket", sock.toString(), "cli");
            ServerFixture.ticket(1, "show", "--control-socket", sock.toString(), "cli");
            assertEquals(0, server.tickets().size());
        }
    }
}
