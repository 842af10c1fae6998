package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.cli.NbdCommandProcess;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code extentflow nbd} over an imageio HTTP source served by our own image server: qemu-img and
 * nbdcopy read the image's bytes through it, qemu-io finds its patterns, and nbdinfo's map shows the
 * holes the server's extents report. A read-only ticket makes a read-only export.
 */
class NbdOverHttpSourceTest {

    @TempDir
    Path dir;

    @Test
    void anImageioTicketIsServedOverNbd() throws Exception {
        Path raw = dir.resolve("img.raw");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "raw", raw.toString(), "64M");
        ExternalTool.check("qemu-io", "-f", "raw", "-c", "write -P 0x11 0 1M", "-c", "write -P 0x22 8M 2M",
                "-c", "write -P 0x33 40M 64k", raw.toString());
        try (ServerFixture f = new ServerFixture(dir)) {
            String url = f.addTicket("nbd", raw, 64L << 20, "read");
            try (NbdCommandProcess ours = NbdCommandProcess.start(dir, url, "--socket",
                    dir.resolve("h.sock").toString())) {
                assertTrue(ours.stdout().contains("read-only"), ours.stdout() + ours.stderr());
                String uri = ours.uri();
                Path converted = dir.resolve("converted.raw");
                ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "raw", uri, converted.toString());
                TestImages.assertSameContent(raw, converted);
                Path copied = dir.resolve("copied.raw");
                ExternalTool.check("nbdcopy", uri, copied.toString());
                TestImages.assertSameContent(raw, copied);

                String read = ExternalTool.check("qemu-io", "-f", "raw", "-r", "-c", "read -P 0x11 0 1M", "-c",
                        "read -P 0x22 8M 2M", "-c", "read -P 0x33 40M 64k", "-c", "read -P 0 2M 6M", uri);
                assertFalse(read.contains("fail"), read);
                assertEquals(4, read.lines().filter(l -> l.startsWith("read ")).count(), read);

                JsonNode map = new ObjectMapper().readTree(ExternalTool.check("nbdinfo", "--map", "--json", uri));
                long holeBytes = 0;
                long covered = 0;
                for (JsonNode e : map) {
                    assertEquals(covered, e.get("offset").asLong());
                    covered += e.get("length").asLong();
                    if ((e.get("type").asInt() & 2) != 0) {
                        holeBytes += e.get("length").asLong();
                    }
                }
                assertEquals(64L << 20, covered);
                // 1M + 2M + 64k of data; the file system may allocate a little more around them
                assertTrue(holeBytes >= (60L << 20) && holeBytes <= (64L << 20) - (3L << 20) - (64 << 10),
                        "zero bytes in the map: " + holeBytes + "\n" + map);
            }
        }
    }
}
