package io.extentflow.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.extentflow.daemon.JobsClient.Event;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import io.extentflow.engine.testing.NettyLeaks;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The jobs API end to end: copies between file, qcow2, NBD and HTTP endpoints, compared byte for byte. */
@ExtendWith(NettyLeaks.class)
class JobsApiCopyTest {

    private static final long SIZE = 8L << 20;

    @TempDir
    Path dir;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @Test
    void fileToFileWithEventsAndMetrics() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 21, 40, 256 << 10);
        Path dst = dir.resolve("dst.raw");
        try (DaemonFixture f = new DaemonFixture(dir)) {
            String id = f.submit(src.toString(), dst.toString(),
                    DaemonFixture.JSON.createObjectNode().put("request_size", 1 << 20));
            List<Event> events = f.events(id);
            Event last = events.getLast();
            assertEquals("result", last.name(), events.toString());
            assertEquals(1, events.stream().filter(e -> e.name().equals("result")).count());
            assertEquals("done", last.data().get("state").asText(), last.toString());
            assertEquals(SIZE, last.data().get("done_bytes").asLong());
            assertEquals(SIZE, last.data().get("data_bytes").asLong() + last.data().get("zeroed_bytes").asLong()
                    + last.data().get("skipped_bytes").asLong());
            TestImages.assertSameContent(src, dst);

            JsonNode job = f.job(id);
            assertEquals("done", job.get("state").asText());
            assertEquals(src.toString(), job.get("source").asText());
            JsonNode list = f.request(HttpMethod.GET, "/v1/copies", null).json();
            assertEquals(1, list.size());
            assertEquals(id, list.get(0).get("id").asText());

            String metrics = f.metrics();
            assertTrue(metrics.contains("extentflow_daemon_jobs{state=\"done\"} 1.0"), metrics);
            assertTrue(metrics.contains("extentflow_daemon_jobs{state=\"running\"} 0.0"), metrics);
        }
    }

    @Test
    void httpsSourceWithItsCa() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        ExternalTool.check("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", key.toString(), "-out", cert.toString());
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 24, 40, 256 << 10);
        Path tlsDir = Files.createDirectory(dir.resolve("tls"));
        var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        try (var https = io.extentflow.server.ImageServer.start(io.extentflow.server.ServerConfig.defaults()
                        .withPort(0).withControlSocket(tlsDir.resolve("ctl.sock")).withTls(cert, key), registry, null)
                .block(DaemonFixture.TIMEOUT);
             DaemonFixture f = new DaemonFixture(dir)) {
            https.tickets().put(new io.extentflow.engine.imageio.Ticket("t", SIZE, "file://" + src,
                    java.util.Set.of("read"), 300, 60, false, "transfer-t", null));
            String url = https.imageUrl("t");
            Path dst = dir.resolve("dst.raw");
            JsonNode ok = f.awaitResult(f.submit(url, dst.toString(),
                    DaemonFixture.JSON.createObjectNode().put("ca_file", cert.toString())));
            assertEquals("done", ok.get("state").asText(), ok.toString());
            TestImages.assertSameContent(src, dst);
            // without the CA the server is not trusted: a failed job naming the endpoint
            JsonNode untrusted = f.awaitResult(f.submit(url, dir.resolve("dst2.raw").toString(), null));
            assertEquals("failed", untrusted.get("state").asText(), untrusted.toString());
            assertTrue(untrusted.get("error").asText().contains(url), untrusted.toString());
        }
    }

    @Test
    void qcow2ToNbd() throws Exception {
        Path raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, SIZE, 22, 40, 256 << 10);
        Path qcow2 = dir.resolve("src.qcow2");
        ExternalTool.check("qemu-img", "convert", "-q", "-O", "qcow2", raw.toString(), qcow2.toString());
        Path target = dir.resolve("target.raw");
        Files.write(target, new byte[(int) SIZE]);
        var nbd = servers.qemuNbd(dir, "-f", "raw", target.toString());
        try (DaemonFixture f = new DaemonFixture(dir)) {
            String id = f.submit(qcow2.toString(), nbd.uri(), null);
            JsonNode result = f.awaitResult(id);
            assertEquals("done", result.get("state").asText(), result.toString());
        }
        nbd.close();
        TestImages.assertSameContent(raw, target);
    }

    @Test
    void nbdToHttpTicketOnTheSameDaemonAndBack() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, SIZE, 23, 50, 512 << 10);
        var nbd = servers.qemuNbd(dir, "-r", "-f", "raw", src.toString());
        Path uploaded = dir.resolve("uploaded.raw");
        Files.write(uploaded, new byte[(int) SIZE]);
        Path downloaded = dir.resolve("downloaded.raw");
        try (DaemonFixture f = new DaemonFixture(dir)) {
            String up = f.ticket("up", uploaded, SIZE, "write");
            JsonNode r1 = f.awaitResult(f.submit(nbd.uri(), up, null));
            assertEquals("done", r1.get("state").asText(), r1.toString());
            TestImages.assertSameContent(src, uploaded);

            String down = f.ticket("down", uploaded, SIZE, "read");
            JsonNode r2 = f.awaitResult(f.submit(down, downloaded.toString(), null));
            assertEquals("done", r2.get("state").asText(), r2.toString());
            TestImages.assertSameContent(src, downloaded);
            assertEquals(0, f.daemon.imageServer().buffersInUse());
        }
    }
}
