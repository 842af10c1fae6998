package io.extentflow.sources.qcow2;

import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClient;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.nbd.server.NbdExport;
import io.extentflow.engine.nbd.server.NbdServer;
import io.extentflow.engine.nbd.server.NbdServerConfig;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.PageCache;
import io.extentflow.engine.testing.RandomReads;
import io.extentflow.sources.qcow2.Qcow2Fixtures.Backing;
import io.extentflow.sources.qcow2.Qcow2Fixtures.Spec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The NBD server over qcow2 chains, whose READs take what the page cache holds on the event loop
 * ({@link io.extentflow.engine.capability.CachedReads}, {@link CachedChainReads}) and the rest (data not
 * cached, compressed clusters, L2 tables still to load) on the file I/O threads. Random READs give
 * exactly qemu's bytes with the chain's files in the page cache, out of it, and every other 64 KiB of
 * each in it; compressed clusters, zero clusters, subclusters and qcow2 and raw backing files among
 * them, with L2 tables covering from 32 KiB (512-byte clusters: a READ takes many lookups) to 512 MiB.
 */
@ExtendWith(NettyLeaks.class)
class Qcow2NbdServerTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    static Stream<Spec> specs() {
        int k = 1024;
        return Stream.of(
                new Spec(64 * k, null, false, Backing.NONE, false),
                new Spec(64 * k, "zlib", false, Backing.QCOW2, false),
                new Spec(4 * k, "zstd", false, Backing.RAW, false),
                new Spec(512, null, false, Backing.CHAIN3, false),
                new Spec(64 * k, "zlib", true, Backing.SHORT_QCOW2, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("specs")
    void readsAreQemusBytesCachedEvictedAndPartlyCached(Spec spec) throws Exception {
        Path top = Qcow2Fixtures.build(dir, spec, spec.hashCode());
        byte[] expected = Files.readAllBytes(Qcow2Fixtures.qemuRaw(top, dir.resolve("expected.raw")));
        try (Qcow2Source source = Qcow2Source.openNow(top, false)) {
            NbdServer server = NbdServer.start(NbdServerConfig.defaults().withSocket(dir.resolve("s.sock")),
                    new NbdExport("", "", source, null, true)).block(WAIT);
            try {
                NbdClient client = NbdClient.connect(NbdAddress.parse(server.uri("")),
                        NbdClientOptions.defaults().withConnections(2)).block(WAIT);
                try {
                    for (String state : new String[] {"cached", "evicted", "every other 64 KiB cached"}) {
                        for (Path file : source.files()) {
                            if (!state.equals("cached")) {
                                PageCache.evict(file);
                            }
                            if (state.startsWith("every")) {
                                PageCache.cacheEveryOther64k(file);
                            }
                        }
                        RandomReads.assertExact(client, expected, new SplittableRandom(state.hashCode()), 200,
                                70_000, WAIT, spec + ", " + state);
                    }
                } finally {
                    client.closeGracefully().block(WAIT);
                }
                Await.until(WAIT, "no request data held", () -> server.bytesInFlight() == 0);
                Await.until(WAIT, "every data buffer back", () -> server.bufferBytesHeld() == 0);
            } finally {
                server.shutdown(WAIT).block(WAIT);
            }
        }
    }
}
