package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code copy --verify}: passes on a faithful target, fails loudly on one that loses writes. */
class VerifyCommandTest {

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    @Test
    void aFaithfulCopyIsVerifiedWithTheSourcesChecksum() throws Exception {
        Path raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, 24L << 20, 21, 40, 2 << 20);
        Path out = dir.resolve("out.raw");
        Cli.Result r = Cli.run("copy", "--verify", "--json", raw.toString(), out.toString());
        assertEquals(ExitCodes.OK, r.exitCode(), r.toString());
        var json = new ObjectMapper().readTree(r.out());
        assertTrue(json.get("verified").asBoolean());
        assertEquals(Cli.run("checksum", raw.toString()).out().split("\\s+")[0], json.get("checksum").asText());

        NbdServers.Server memory = servers.nbdkit(dir, "memory", "size=24M");
        Cli.Result nbd = Cli.run("copy", "--verify", raw.toString(), memory.uri());
        assertEquals(ExitCodes.OK, nbd.exitCode(), nbd.toString());
        assertTrue(nbd.out().contains("verified, blake2b "), nbd.out());
    }

    @Test
    void aTargetThatLosesWritesFailsVerification() throws Exception {
        Path raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, 8L << 20, 22, 60, 1 << 20);
        // nbdkit's null plugin accepts every write and reads back zeros
        NbdServers.Server sink = servers.nbdkit(dir, "null", "size=8M");
        Cli.Result r = Cli.run("copy", "--verify", raw.toString(), sink.uri());
        assertEquals(ExitCodes.FAILURE, r.exitCode(), r.toString());
        assertTrue(r.errLines().size() == 1 && r.errLines().get(0).contains("verification failed"), r.toString());
    }

    @Test
    void verifyRefusesTargetsItCannotReadBack() throws Exception {
        Path raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, 1L << 20, 23, 60, 1 << 20);
        Cli.Result r = Cli.run("copy", "--verify", raw.toString(), "-");
        assertEquals(ExitCodes.FAILURE, r.exitCode(), r.toString());
        assertTrue(r.err().contains("not standard output"), r.toString());
    }
}
