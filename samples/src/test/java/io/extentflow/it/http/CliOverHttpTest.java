package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.cli.Extentflow;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.server.ServerConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command's copy, map and checksum on https tickets, with --cafile and --insecure; --retries. */
class CliOverHttpTest {

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Extentflow.execute(new Console(new PrintWriter(out, true), new PrintWriter(err, true)), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void copyMapAndChecksumOverHttps() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        ExternalTool.check("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key.toString(), "-out", cert.toString());
        long size = 6L << 20;
        Path image = dir.resolve("img.raw");
        TestImages.randomSparseRaw(image, size, 12, 40, 512 << 10);
        ServerConfig config = ServerConfig.defaults().withHost("127.0.0.1").withPort(0).withTls(cert, key);
        try (ServerFixture f = new ServerFixture(dir, config)) {
            String url = f.addTicket("cli", image, size, "read");
            Path out = dir.resolve("out.raw");
            Run copy = cli("copy", "--cafile", cert.toString(), url, out.toString());
            assertEquals(0, copy.code(), copy.toString());
            TestImages.assertSameContent(image, out);

            Run untrusted = cli("map", "--output=extents", url);
            assertEquals(1, untrusted.code(), untrusted.toString());
            assertTrue(untrusted.err().startsWith("extentflow: ") && untrusted.err().strip().lines().count() == 1,
                    untrusted.err());

            Run map = cli("map", "--output=extents", "--insecure", url);
            Run local = cli("map", "--output=extents", image.toString());
            assertEquals(0, map.code(), map.toString());
            assertEquals(local.out(), map.out(), "extents over https equal the file's");

            Run remote = cli("checksum", "--cafile", cert.toString(), url);
            Run file = cli("checksum", image.toString());
            assertEquals(file.out().split("\\s+")[0], remote.out().split("\\s+")[0]);
        }
    }

    @Test
    void retriesFlagBoundsTheAttempts() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + closedPort + "/images/t";
        Path out = dir.resolve("out.raw");
        Run twice = cli("copy", "--retries", "2", url, out.toString());
        assertEquals(1, twice.code(), twice.toString());
        assertTrue(twice.err().contains(url) && twice.err().contains("(after 3 attempts)"), twice.err());
        Run once = cli("copy", "--retries", "0", url, out.toString());
        assertEquals(1, once.code(), once.toString());
        assertTrue(once.err().contains(url) && !once.err().contains("attempts"), once.err());
    }
}
