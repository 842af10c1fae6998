package io.extentflow.sinks.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.NetworkOptions;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.nbd.NbdException;
import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NbdkitLog;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.OwnNbdServer;
import io.extentflow.engine.testing.ExternalTool;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** Writing to NBD exports: content checked by reading the served file; refusals before any data moves. */
@ExtendWith(NettyLeaks.class)
class NbdSinkTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int SIZE = 8 << 20;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    private void writeZeroFlushAndCheck(String uri, Path served) throws Exception {
        byte[] data = random(3 << 20, 1);
        try (ImageSink sink = Endpoints.sink(uri, SIZE).block(WAIT)) {
            assertFalse(sink.capabilities().knownZero(), "an NBD export's content is unknown");
            sink.write(1 << 20, ByteBuffer.wrap(data)).block(WAIT);
            sink.zero(2 << 20, 512 << 10).block(WAIT);
            sink.zero(6 << 20, 2 << 20).block(WAIT);
            sink.flush().block(WAIT);
        }
        byte[] expected = Files.readAllBytes(served).clone();
        byte[] want = new byte[SIZE];
        Arrays.fill(want, (byte) 0x55);
        System.arraycopy(data, 0, want, 1 << 20, data.length);
        Arrays.fill(want, 2 << 20, (2 << 20) + (512 << 10), (byte) 0);
        Arrays.fill(want, 6 << 20, 8 << 20, (byte) 0);
        assertTrue(Arrays.equals(want, expected), "served file content after write, zero, flush");
    }

    private Path patterned() throws Exception {
        Path raw = dir.resolve("t.raw");
        byte[] fill = new byte[SIZE];
        Arrays.fill(fill, (byte) 0x55);
        Files.write(raw, fill);
        return raw;
    }

    @Test
    void closeGracefullyCompletesOnceEveryConnectionIsClosed() throws Exception {
        var s = servers.nbdkit(dir, "memory", "16M");
        NbdSink sink = NbdSink.open(NbdAddress.parse(s.uri()), 16 << 20, NbdClientOptions.defaults(), false)
                .block(WAIT);
        assertTrue(sink.client().openConnections() > 0);
        sink.closeGracefully().block(WAIT);
        assertEquals(0, sink.client().openConnections());
    }

    /**
     * {@code raw} served by {@code server}: {@code qemu-nbd [-r] -f raw} (with {@code qemuArgs}), or
     * extentflow's own server in this JVM, writable through the file sink unless read-only, so the
     * sink is checked against both.
     */
    private String serve(String server, Path raw, boolean readOnly, String... qemuArgs) throws Exception {
        if (server.equals("qemu-nbd")) {
            List<String> args = new ArrayList<>(List.of(qemuArgs));
            if (readOnly) {
                args.add("-r");
            }
            args.addAll(List.of("-f", "raw", raw.toString()));
            return servers.qemuNbd(dir, args.toArray(String[]::new)).uri();
        }
        ImageSource source = Endpoints.source(raw.toString()).block(WAIT);
        ImageSink sink = readOnly ? null : Endpoints.sink(raw.toString(), source.size()).block(WAIT);
        OwnNbdServer own = OwnNbdServer.serve(dir, source, sink);
        ownServers.add(own);
        return own.uri();
    }

    private final List<OwnNbdServer> ownServers = new ArrayList<>();

    @AfterEach
    void stopOwnServers() {
        ownServers.forEach(OwnNbdServer::close);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qemu-nbd", "extentflow"})
    void writesZeroesAndFlushesThroughAServer(String server) throws Exception {
        Path raw = patterned();
        writeZeroFlushAndCheck(serve(server, raw, false, "-e", "4"), raw);
    }

    @Test
    void withoutWriteZeroesZerosAreWrittenAsData() throws Exception {
        Path raw = patterned();
        var s = servers.nbdkit(dir, "--filter=nozero", "file", raw.toString(), "zeromode=none");
        try (ImageSink sink = Endpoints.sink(s.uri(), SIZE).block(WAIT)) {
            assertFalse(((NbdSink) sink).client().info().canWriteZeroes());
        }
        writeZeroFlushAndCheck(s.uri(), raw);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qemu-nbd", "extentflow"})
    void noHoleKeepsZeroedRangesAllocated(String server) throws Exception {
        Path raw = patterned();
        String uri = serve(server, raw, false);
        NbdSink sink = NbdSink.open(NbdAddress.parse(uri), SIZE, NbdClientOptions.defaults(), true).block(WAIT);
        try {
            sink.zero(0, SIZE).block(WAIT);
            sink.flush().block(WAIT);
        } finally {
            sink.close();
        }
        String[] stat = ExternalTool.check("stat", "-c", "%b %B", raw.toString()).trim().split(" ");
        long allocated = Long.parseLong(stat[0]) * Long.parseLong(stat[1]);
        assertTrue(allocated >= SIZE, "NO_HOLE must leave the file allocated, but only " + allocated + " bytes are");
        assertTrue(Arrays.equals(new byte[SIZE], Files.readAllBytes(raw)));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qemu-nbd", "extentflow"})
    void readOnlyExportIsRefusedBeforeAnyDataMoves(String server) throws Exception {
        Path raw = patterned();
        String uri = serve(server, raw, true);
        String socket = uri.substring(uri.indexOf("socket=") + "socket=".length());
        StepVerifier.create(Endpoints.sink(uri, SIZE))
                .expectErrorSatisfies(t -> {
                    NbdException e = assertInstanceOf(NbdException.class, t);
                    assertTrue(e.getMessage().contains("read-only"), e.getMessage());
                    assertTrue(e.getMessage().contains(socket), e.getMessage());
                })
                .verify(WAIT);
    }

    @Test
    void sizeMismatchIsRefused() throws Exception {
        var s = servers.nbdkit(dir, "memory", "4M");
        StepVerifier.create(Endpoints.sink(s.uri(), SIZE))
                .expectErrorSatisfies(t -> assertTrue(t.getMessage().contains("the export has 4194304 bytes but the "
                        + "image has 8388608"), t.getMessage()))
                .verify(WAIT);
    }

    @Test
    void capabilitiesFollowTheServer() throws Exception {
        var s = servers.nbdkit(dir, "memory", "8M");
        try (ImageSink sink = Endpoints.sink(s.uri(), SIZE, EndpointOptions.defaults().with(NetworkOptions.CONNECTIONS, 4))
                .block(WAIT)) {
            assertEquals(32 << 20, sink.capabilities().maxWriteSize());
            assertEquals(4, sink.capabilities().connections(), "nbdkit memory allows multi-conn");
        }
        try (ImageSink sink = Endpoints.sink(s.uri(), SIZE).block(WAIT)) {
            assertEquals(Math.min(4, Runtime.getRuntime().availableProcessors()), sink.capabilities().connections(),
                    "by default one connection per CPU, up to 4");
        }
        Path raw = patterned();
        var q = servers.qemuNbd(dir, "-f", "raw", raw.toString());
        try (ImageSink sink = Endpoints.sink(q.uri(), SIZE).block(WAIT)) {
            assertEquals(1, sink.capabilities().connections(), "qemu-nbd -e 1 has no multi-conn");
        }
    }

    /** A sink opening on a logged nbdkit memory export, its size still to come; returns once 4 connections are up. */
    /** The export {@link #openingWithoutSize} opened. */
    private NbdServers.Server export;

    private CompletableFuture<ImageSink> openingWithoutSize(Path log, Sinks.One<Long> size) throws Exception {
        var s = servers.nbdkit(dir, "--filter=log", "memory", String.valueOf(SIZE), "logfile=" + log);
        CompletableFuture<ImageSink> opening = Endpoints.sink(s.uri(), size.asMono(),
                EndpointOptions.defaults().with(NetworkOptions.CONNECTIONS, 4)).toFuture();
        Await.until(WAIT, "connections to the export before the size is known",
                () -> NbdkitLog.count(log, " Connect ") == 4);
        export = s;
        return opening;
    }

    @Test
    void connectsWhileTheSizeIsStillToCome() throws Exception {
        Sinks.One<Long> size = Sinks.one();
        CompletableFuture<ImageSink> opening = openingWithoutSize(dir.resolve("nbdkit.log"), size);
        assertFalse(opening.isDone(), "the sink waits for the size");
        size.tryEmitValue((long) SIZE);
        try (ImageSink sink = opening.get(WAIT.toSeconds(), TimeUnit.SECONDS)) {
            assertEquals(SIZE, sink.size());
            sink.write(0, ByteBuffer.wrap(random(4096, 2))).block(WAIT);
        }
    }

    @Test
    void aSizeThatFailsClosesTheConnectionsAndPassesTheErrorOn() throws Exception {
        Path log = dir.resolve("nbdkit.log");
        Sinks.One<Long> size = Sinks.one();
        CompletableFuture<ImageSink> opening = openingWithoutSize(log, size);
        size.tryEmitError(new IllegalStateException("the source could not be opened"));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> opening.get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertEquals("the source could not be opened", e.getCause().getMessage());
        export.untilNoConnectionOpen(WAIT);
    }
}
