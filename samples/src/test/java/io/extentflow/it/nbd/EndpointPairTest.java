package io.extentflow.it.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.EndpointPair;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NbdkitLog;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.TestImages;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

/**
 * {@link Endpoints#pair}: the target opens while the source does, and a pair that cannot be made,
 * or is cancelled, leaves no connection open. Servers are real: nbdkit with its delay filter for a
 * source slow to open, and its log filter to see the target's connections come and go.
 */
@ExtendWith(NettyLeaks.class)
class EndpointPairTest {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final EndpointOptions DEFAULTS = EndpointOptions.defaults();

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    @Test
    void theTargetConnectsWhileTheSourceIsStillOpening() throws Exception {
        Path image = dir.resolve("src.raw");
        var source = slowSource(image, 8 << 20);
        Path log = dir.resolve("target.log");
        var target = servers.nbdkit(dir, "--filter=log", "memory", "8M", "logfile=" + log);

        CompletableFuture<EndpointPair> opening = Endpoints.pair(source.uri(), DEFAULTS, target.uri(), DEFAULTS)
                .toFuture();
        Await.until(WAIT, "a connection to the target in " + log, () -> NbdkitLog.count(log, " Connect ") > 0);
        assertFalse(opening.isDone(), "the target connected before the source finished its handshake");

        EndpointPair pair = opening.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        CopyResult result;
        try {
            result = Copy.from(pair.source()).to(pair.sink()).run().block(WAIT);
            assertEquals(0, ExternalTool.run("qemu-img", "compare", "-f", "raw", "-F", "raw", image.toString(),
                    target.uri()).exitCode(), "the target holds the source's bytes");
        } finally {
            pair.closeGracefully().block(WAIT);
        }
        assertEquals(8 << 20, result.size());
        untilEveryConnectionEnded(target, log);
    }

    @Test
    void aSourceThatFailsLeavesNoTargetConnectionAndItsErrorNamesTheSource() throws Exception {
        Path missing = dir.resolve("missing.raw");
        Path log = dir.resolve("target.log");
        var target = servers.nbdkit(dir, "--filter=log", "memory", "1M", "logfile=" + log);

        StepVerifier.create(Endpoints.pair(missing.toString(), DEFAULTS, target.uri(), DEFAULTS))
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains(missing + ": no such file"),
                        e.getMessage()))
                .verify(WAIT);
        // the file fails at once, so the target may not have got as far as a connection: none stays open
        target.untilNoConnectionOpen(WAIT);
    }

    @Test
    void aTargetThatDoesNotFitClosesTheSource() throws Exception {
        Path log = dir.resolve("source.log");
        var source = servers.nbdkit(dir, "--filter=log", "memory", "2M", "logfile=" + log);
        Path target = dir.resolve("small.raw");
        try (RandomAccessFile f = new RandomAccessFile(target.toFile(), "rw")) {
            f.setLength(1 << 20);
        }

        StepVerifier.create(Endpoints.pair(source.uri(), DEFAULTS, target.toString(), DEFAULTS))
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("existing target has 1048576 bytes"),
                        e.getMessage()))
                .verify(WAIT);
        untilEveryConnectionEnded(source, log);
        assertEquals(1 << 20, Files.size(target), "the target is left as it was");
    }

    @Test
    void cancellingWhileTheSourceOpensClosesTheTarget() throws Exception {
        var source = slowSource(dir.resolve("src.raw"), 1 << 20);
        Path log = dir.resolve("target.log");
        var target = servers.nbdkit(dir, "--filter=log", "memory", "1M", "logfile=" + log);

        Disposable opening = Endpoints.pair(source.uri(), DEFAULTS, target.uri(), DEFAULTS)
                .subscribe(p -> p.closeGracefully().subscribe(), e -> { });
        // the target is up and waits for the size; the source is in its delayed handshake
        Await.until(WAIT, "a connection to the target in " + log, () -> NbdkitLog.count(log, " Connect ") > 0);
        opening.dispose();
        untilEveryConnectionEnded(target, log);
    }

    /** nbdkit serving a new random sparse raw file, each connection waiting 1.5 s in its handshake. */
    private NbdServers.Server slowSource(Path image, long size) throws Exception {
        TestImages.randomSparseRaw(image, size, 11, 30, 64 << 10);
        return servers.nbdkit(dir, "--filter=delay", "file", image.toString(), "delay-open=1500ms");
    }

    /** The client connected ({@code log} shows it) and then closed every connection it made. */
    private static void untilEveryConnectionEnded(NbdServers.Server server, Path log) {
        assertTrue(NbdkitLog.count(log, " Connect ") > 0, "no connection in " + log);
        server.untilNoConnectionOpen(WAIT);
    }
}
