package io.extentflow.engine.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link NbdMapFormat} prints what {@code nbdinfo --map --json} prints, compared as parsed JSON. */
@ExtendWith(NettyLeaks.class)
class NbdMapFormatTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    @Test
    void sparseRandomMatchesNbdinfo() throws Exception {
        var s = servers.nbdkit(dir, "sparse-random", "64M", "seed=11", "percent=30", "runlength=262144");
        compare(s.uri(), NbdProtocol.CONTEXT_BASE_ALLOCATION);
    }

    @Test
    void qemuNbdRawMatchesNbdinfoForBothContexts() throws Exception {
        Path raw = dir.resolve("a.raw");
        TestImages.randomSparseRaw(raw, 16 << 20, 5, 40, 256 << 10);
        var s = servers.qemuNbd(dir, "-A", "-e", "4", "-r", "-f", "raw", raw.toString());
        compare(s.uri(), NbdProtocol.CONTEXT_BASE_ALLOCATION);
        compare(s.uri(), NbdProtocol.CONTEXT_ALLOCATION_DEPTH);
    }

    @Test
    void qcow2WithAllocationDepthMatchesNbdinfo() throws Exception {
        Path qcow2 = dir.resolve("a.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", qcow2.toString(), "8M");
        ExternalTool.check("qemu-io", "-f", "qcow2", "-c", "write -P 7 1M 64k", "-c", "write -z 3M 128k",
                qcow2.toString());
        var s = servers.qemuNbd(dir, "-A", "-e", "4", "-r", "-f", "qcow2", qcow2.toString());
        compare(s.uri(), NbdProtocol.CONTEXT_BASE_ALLOCATION);
        compare(s.uri(), NbdProtocol.CONTEXT_ALLOCATION_DEPTH);
    }

    private void compare(String uri, String context) throws Exception {
        String arg = context.equals(NbdProtocol.CONTEXT_BASE_ALLOCATION) ? "--map" : "--map=" + context;
        JsonNode expected = JSON.readTree(ExternalTool.check("nbdinfo", arg, "--json", uri));
        NbdClient c = NbdClient.connect(NbdAddress.parse(uri), NbdClientOptions.defaults()).block(WAIT);
        try {
            String ours = NbdMapFormat.json(c, context).block(WAIT);
            JsonNode actual = JSON.readTree(ours);
            assertTrue(expected.size() > 0);
            assertEquals(expected, actual, context + " map of " + uri);
        } finally {
            c.closeGracefully().block(WAIT);
        }
    }
}
