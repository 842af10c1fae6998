package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.PageCache;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code extentflow nbd} with real clients, side by side with {@code qemu-nbd -r -A} serving the same
 * image: qemu-img and nbdcopy read identical bytes, nbdinfo reports the same export and the same
 * maps, qemu-io finds the patterns written; writes through it land on disk; TLS is required when
 * configured; SIGTERM ends it cleanly.
 */
class NbdServeCommandTest {

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    /** The base image: three runs of patterns in 64 MiB, holes elsewhere. */
    private Path base() throws Exception {
        Path raw = dir.resolve("base.raw");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "raw", raw.toString(), "64M");
        ExternalTool.check("qemu-io", "-f", "raw", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 8M 2M",
                "-c", "write -P 0x33 40M 64k", raw.toString());
        return raw;
    }

    /** The image of {@code kind} (raw, qcow2, zlib-qcow2, chain), and its format. */
    private Path image(String kind) throws Exception {
        Path raw = base();
        Path qcow2 = dir.resolve("img.qcow2");
        switch (kind) {
            case "raw" -> {
                return raw;
            }
            case "qcow2" -> ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(),
                    qcow2.toString());
            case "zlib-qcow2" -> ExternalTool.check("qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", "-o",
                    "compression_type=zlib", raw.toString(), qcow2.toString());
            case "chain" -> {
                // base <- mid <- top: mid overwrites part of a run, top adds data and a zero cluster
                Path baseQcow2 = dir.resolve("base.qcow2");
                Path mid = dir.resolve("mid.qcow2");
                ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(),
                        baseQcow2.toString());
                ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", baseQcow2.toString(), "-F",
                        "qcow2", mid.toString());
                ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 0x44 8M 512k", mid.toString());
                ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", mid.toString(), "-F", "qcow2",
                        qcow2.toString());
                ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 0x55 40M 64k", "-c", "write -z 0 64k",
                        qcow2.toString());
            }
            default -> throw new IllegalArgumentException(kind);
        }
        return qcow2;
    }

    private static List<String> patterns(String kind) {
        return kind.equals("chain")
                ? List.of("read -P 0 0 64k", "read -P 0x11 64k 960k", "read -P 0x44 8M 512k",
                        "read -P 0x22 8704k 1536k", "read -P 0x55 40M 64k", "read -P 0 2M 6M", "read -P 0 63M 1M")
                : List.of("read -P 0x11 0 1M", "read -P 0x22 8M 2M", "read -P 0x33 40M 64k", "read -P 0 2M 6M",
                        "read -P 0 63M 1M");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"raw", "qcow2", "zlib-qcow2", "chain"})
    void readsAndMapsEqualQemuNbds(String kind) throws Exception {
        Path image = image(kind);
        String format = kind.equals("raw") ? "raw" : "qcow2";
        Path expected = dir.resolve("expected.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", image.toString(), expected.toString());
        NbdServers.Server qemu = servers.qemuNbd(dir, "-r", "-A", "-e", "8", "-f", format, image.toString());
        try (NbdCommandProcess ours = NbdCommandProcess.start(dir, image.toString(), "--socket",
                dir.resolve("ours.sock").toString(), "--read-only")) {
            String uri = ours.uri();
            Path converted = dir.resolve("converted.raw");
            ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "raw", uri, converted.toString());
            TestImages.assertSameContent(expected, converted);
            Path copied = dir.resolve("copied.raw");
            ExternalTool.check("nbdcopy", uri, copied.toString());
            TestImages.assertSameContent(expected, copied);

            assertEquals(ExternalTool.check("nbdinfo", "--map", "--json", qemu.uri()),
                    ExternalTool.check("nbdinfo", "--map", "--json", uri), "base:allocation");
            assertEquals(ExternalTool.check("nbdinfo", "--map=qemu:allocation-depth", "--json", qemu.uri()),
                    ExternalTool.check("nbdinfo", "--map=qemu:allocation-depth", "--json", uri),
                    "qemu:allocation-depth");
            assertEquals(export(qemu.uri()), export(uri), "nbdinfo --json");

            List<String> io = new ArrayList<>(List.of("qemu-io", "-f", "raw", "-r"));
            for (String p : patterns(kind)) {
                io.addAll(List.of("-c", p));
            }
            io.add(uri);
            String read = ExternalTool.check(io.toArray(String[]::new));
            assertFalse(read.contains("fail"), read);
            assertEquals(patterns(kind).size(), read.lines().filter(l -> l.startsWith("read ")).count(), read);
            assertEquals(143, ours.stop(), "SIGTERM ends with 128 + 15: " + ours.stderr());
            assertTrue(ours.stderr().contains("extentflow nbd: stopped"), ours.stderr());
            assertFalse(Files.exists(dir.resolve("ours.sock")), "the socket file is removed");
        }
    }

    /**
     * Images larger than one BLOCK_STATUS request (nbdinfo asks 4 GiB at a time): the later requests
     * are answered from the server's cached ranges, and both maps still equal qemu-nbd's.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"raw", "chain"})
    void mapsOfImagesOfManyRequestsEqualQemuNbds(String kind) throws Exception {
        Path raw = dir.resolve("big.raw");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "raw", raw.toString(), "40G");
        ExternalTool.check("qemu-io", "-f", "raw", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 4095M 2M",
                "-c", "write -P 0x33 13G 64k", "-c", "write -P 0x44 39G 3M", raw.toString());
        Path image = raw;
        if (kind.equals("chain")) {
            Path base = dir.resolve("big-base.qcow2");
            ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), base.toString());
            image = dir.resolve("big-top.qcow2");
            ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2",
                    image.toString());
            ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 0x55 8G 128k", "-c", "write -z 13G 64k",
                    "-c", "write -P 0x66 39G 64k", image.toString());
        }
        NbdServers.Server qemu = servers.qemuNbd(dir, "-r", "-A", "-e", "8", "-f", kind.equals("raw") ? "raw" : "qcow2",
                image.toString());
        try (NbdCommandProcess ours = NbdCommandProcess.start(dir, image.toString(), "--socket",
                dir.resolve("ours.sock").toString(), "--read-only")) {
            for (int round = 0; round < 2; round++) { // the second one all from the cache
                assertEquals(ExternalTool.check("nbdinfo", "--map", "--json", qemu.uri()),
                        ExternalTool.check("nbdinfo", "--map", "--json", ours.uri()), "base:allocation");
                assertEquals(ExternalTool.check("nbdinfo", "--map=qemu:allocation-depth", "--json", qemu.uri()),
                        ExternalTool.check("nbdinfo", "--map=qemu:allocation-depth", "--json", ours.uri()),
                        "qemu:allocation-depth");
            }
        }
    }

    /** What nbdinfo --json says of the export and the connection, but the URI (which names the socket). */
    private static JsonNode export(String uri) throws Exception {
        ObjectNode all = (ObjectNode) Json.MAPPER.readTree(ExternalTool.check("nbdinfo", "--json", uri));
        ((ObjectNode) all.get("exports").get(0)).remove("uri");
        return all;
    }

    @Test
    void writesThroughAWritableRawExportLandOnDisk() throws Exception {
        Path source = dir.resolve("src.raw");
        TestImages.randomSparseRaw(source, 64L << 20, 21, 50, 1 << 20);
        Path target = dir.resolve("target.raw");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "raw", target.toString(), "64M");
        try (NbdCommandProcess ours = NbdCommandProcess.start(dir, target.toString(), "--socket",
                dir.resolve("w.sock").toString())) {
            assertTrue(ours.stdout().contains("writable"), ours.stdout());
            String uri = ours.uri();
            JsonNode info = Json.MAPPER.readTree(ExternalTool.check("nbdinfo", "--json", uri)).get("exports").get(0);
            assertFalse(info.get("is_read_only").asBoolean());
            assertTrue(info.get("can_zero").asBoolean() && info.get("can_trim").asBoolean()
                    && info.get("can_multi_conn").asBoolean(), info.toString());

            ExternalTool.check("nbdcopy", source.toString(), uri);
            TestImages.assertSameContent(source, target);

            String io = ExternalTool.check("qemu-io", "-f", "raw", "-c", "write -z 1M 1M", "-c", "discard 4M 1M",
                    "-c", "write -P 0x77 8M 4k", "-c", "write -z -u 12M 64k", "-c", "flush", uri);
            assertFalse(io.contains("fail"), io);
            Path expected = dir.resolve("expected.raw");
            Files.copy(source, expected);
            ExternalTool.check("qemu-io", "-f", "raw", "-c", "write -z 1M 1M", "-c", "write -z 4M 1M", "-c",
                    "write -P 0x77 8M 4k", "-c", "write -z 12M 64k", expected.toString());
            TestImages.assertSameContent(expected, target);
            assertEquals(143, ours.stop(), ours.stderr());
        }
    }

    /**
     * A sparse 1 GiB raw image read by nbdcopy three times: all in the page cache (every READ is served
     * on the event loop, RWF_NOWAIT), evicted (every READ falls back to the file I/O threads), and with
     * every other 64 KiB evicted (READs read part here, the rest there, inside one 256 KiB piece). Each
     * copy is byte-exact; fincore shows that each eviction took.
     */
    @Test
    void aRawImageReadsTheSameCachedEvictedAndHalfEvicted() throws Exception {
        Path image = dir.resolve("big.raw");
        long size = 1L << 30;
        TestImages.randomSparseRaw(image, size, 25, 12, 4 << 20);
        try (NbdCommandProcess ours = NbdCommandProcess.start(dir, image.toString(), "--socket",
                dir.resolve("big.sock").toString(), "--read-only")) {
            String uri = ours.uri();
            Path copied = dir.resolve("copied.raw");
            for (String state : List.of("cached", "evicted", "half-evicted")) {
                switch (state) {
                    case "cached" -> ExternalTool.check("dd", "if=" + image, "of=/dev/null", "bs=4M", "status=none");
                    case "evicted" -> PageCache.evict(image);
                    default -> {
                        PageCache.evict(image);
                        PageCache.cacheEveryOther64k(image);
                    }
                }
                long resident = PageCache.residentBytes(image);
                switch (state) {
                    case "cached" -> assertTrue(resident > size * 9 / 10, state + ": " + resident);
                    case "evicted" -> assertTrue(resident < size / 100, state + ": " + resident);
                    default -> assertTrue(resident > size / 4 && resident < size * 3 / 4, state + ": " + resident);
                }
                Files.deleteIfExists(copied);
                ExternalTool.check("nbdcopy", uri, copied.toString());
                TestImages.assertSameContent(image, copied);
            }
            assertEquals(143, ours.stop(), ours.stderr());
        }
    }


    @Test
    void aQcow2ImageIsServedReadOnly() throws Exception {
        Path image = image("qcow2");
        try (NbdCommandProcess ours = NbdCommandProcess.start(dir, image.toString(), "--socket",
                dir.resolve("q.sock").toString(), "--export-name", "disk")) {
            assertTrue(ours.stdout().contains("read-only"), ours.stdout());
            assertTrue(ours.uri().startsWith("nbd+unix:///disk?socket="), ours.uri());
            JsonNode export = Json.MAPPER.readTree(ExternalTool.check("nbdinfo", "--json", ours.uri()))
                    .get("exports").get(0);
            assertEquals("disk", export.get("export-name").asText());
            assertNotEquals(0, ExternalTool.run("nbdinfo", ours.uri().replace("/disk?", "/other?")).exitCode(),
                    "another name is no export");
            String write = ExternalTool.run("qemu-io", "-f", "raw", "-c", "write -P 1 0 4k", ours.uri()).stdout()
                    + ExternalTool.run("qemu-io", "-f", "raw", "-c", "write -P 1 0 4k", ours.uri()).stderr();
            assertTrue(write.contains("ermission") || write.contains("read-only") || write.contains("read only"),
                    write);
        }
    }

    @Test
    void withACertificateTlsIsRequired() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        ExternalTool.check("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key.toString(), "-out", cert.toString());
        Path certs = Files.createDirectory(dir.resolve("certs"));
        Files.copy(cert, certs.resolve("ca-cert.pem"));
        Path image = image("qcow2");
        Path expected = dir.resolve("expected.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", image.toString(), expected.toString());
        try (NbdCommandProcess ours = NbdCommandProcess.start(dir, image.toString(), "--port", "0",
                "--tls-cert", cert.toString(), "--tls-key", key.toString())) {
            String uri = ours.uri();
            assertTrue(uri.startsWith("nbds://127.0.0.1:"), uri);
            JsonNode info = Json.MAPPER.readTree(ExternalTool.check("nbdinfo", "--json",
                    uri + "?tls-certificates=" + certs));
            assertTrue(info.get("TLS").asBoolean(), info.toString());
            assertEquals(64L << 20, info.get("exports").get(0).get("export-size").asLong());
            String port = uri.substring(uri.lastIndexOf(':') + 1, uri.length() - 1);
            Path converted = dir.resolve("converted.raw");
            ExternalTool.check("qemu-img", "convert", "-O", "raw", "--object",
                    "tls-creds-x509,id=tls0,dir=" + certs + ",endpoint=client", "--image-opts",
                    "driver=nbd,host=127.0.0.1,port=" + port + ",tls-creds=tls0", converted.toString());
            TestImages.assertSameContent(expected, converted);

            ExternalTool.Result plain = ExternalTool.run("nbdinfo", "--json", "nbd://127.0.0.1:" + port + "/");
            assertNotEquals(0, plain.exitCode(), plain.stdout());
            assertTrue(plain.stderr().contains("opt_go"), "refused during the handshake: " + plain.stderr());
        }
    }

    @Test
    void aSocketOrPortInUseIsOneLine() throws Exception {
        Path image = base();
        Path socket = dir.resolve("busy.sock");
        try (NbdCommandProcess first = NbdCommandProcess.start(dir, image.toString(), "--socket", socket.toString(),
                "--read-only")) {
            Cli.Result r = Cli.run("nbd", image.toString(), "--socket", socket.toString());
            assertEquals(ExitCodes.FAILURE, r.exitCode(), r.toString());
            assertEquals(List.of("extentflow: socket " + socket + " is in use by another server; stop it or give "
                    + "another --socket"), r.errLines());
            assertEquals(0, ExternalTool.run("nbdinfo", first.uri()).exitCode(), "the first server still serves");
        }
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getLoopbackAddress())) {
            Cli.Result r = Cli.run("nbd", image.toString(), "--port", Integer.toString(taken.getLocalPort()));
            assertEquals(ExitCodes.FAILURE, r.exitCode(), r.toString());
            assertEquals(List.of("extentflow: port " + taken.getLocalPort() + " on 127.0.0.1 is in use"),
                    r.errLines());
        }
    }

    @Test
    void plaintextBeyondLoopbackNeedsItsFlag() {
        Cli.Result r = Cli.run("nbd", "--bind", "0.0.0.0", "--port", "0", dir.resolve("none.raw").toString());
        assertEquals(ExitCodes.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().contains("--allow-plaintext"), r.err());
        assertEquals(1, r.errLines().size(), r.err());
    }
}
