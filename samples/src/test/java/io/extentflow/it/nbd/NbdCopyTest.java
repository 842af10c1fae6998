package io.extentflow.it.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ForwardingImageSource;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.NbdkitLog;
import io.extentflow.engine.testing.NettyLeaks;
import io.extentflow.engine.testing.OwnNbdServer;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sources.nbd.NbdSource;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * Copies between NBD exports (qemu-nbd, nbdkit, extentflow's own server) and raw files, compared byte for byte with the
 * original or with what nbdcopy writes; and copies that fail part way.
 */
@ExtendWith(NettyLeaks.class)
class NbdCopyTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    private static CopyResult copy(String from, String to) {
        try (ImageSource src = Endpoints.source(from).block(WAIT);
             ImageSink dst = Endpoints.sink(to, src.size()).block(WAIT)) {
            return Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(1 << 20)).run().block(WAIT);
        }
    }

    /** A raw file of {@code size} bytes filled with 0x5a: a target whose old content must be overwritten. */
    private Path dirtyTarget(String name, long size) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            byte[] junk = new byte[1 << 20];
            java.util.Arrays.fill(junk, (byte) 0x5a);
            for (long at = 0; at < size; at += junk.length) {
                f.write(junk, 0, (int) Math.min(junk.length, size - at));
            }
        }
        return p;
    }

    @Test
    void sparseRandomToFileIsWhatNbdcopyWrites() throws Exception {
        String[][] cases = {{"16M", "1", "10"}, {"64M", "7", "25"}, {"40M", "123", "50"}};
        for (String[] c : cases) {
            var s = servers.nbdkit(dir, "sparse-random", c[0], "seed=" + c[1], "percent=" + c[2],
                    "runlength=262144", "random-content=true");
            Path ours = dir.resolve("ours-" + c[1] + ".raw");
            Path theirs = dir.resolve("nbdcopy-" + c[1] + ".raw");
            CopyResult r = copy(s.uri(), ours.toString());
            assertEquals(r.size(), r.dataBytes() + r.zeroedBytes() + r.skippedBytes());
            assertTrue(r.dataBytes() > 0, "some data was copied");
            ExternalTool.check("nbdcopy", s.uri(), theirs.toString());
            TestImages.assertSameContent(theirs, ours);
        }
    }

    /**
     * {@code image} served by {@code server}: {@code qemu-nbd -e 4 [-r] -f FORMAT [-A]}, or extentflow's own
     * server in this JVM (writable over the same file unless read-only), so the client's copies are
     * checked against both.
     */
    private String serve(String server, Path image, String format, boolean readOnly) throws Exception {
        if (server.equals("qemu-nbd")) {
            return servers.qemuNbd(dir, readOnly ? new String[] {"-r", "-A", "-e", "4", "-f", format, image.toString()}
                    : new String[] {"-e", "4", "-f", format, image.toString()}).uri();
        }
        ImageSource source = Endpoints.source(image.toString()).block(WAIT);
        ImageSink sink = readOnly ? null : Endpoints.sink(image.toString(), source.size()).block(WAIT);
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
    void rawFileToAServerAndBack(String server) throws Exception {
        Path original = dir.resolve("a.raw");
        TestImages.randomSparseRaw(original, 24 << 20, 21, 40, 1 << 20);
        Path target = dirtyTarget("target.raw", 24 << 20);
        String uri = serve(server, target, "raw", false);
        copy(original.toString(), uri);
        TestImages.assertSameContent(original, target);

        Path back = dir.resolve("back.raw");
        copy(uri, back.toString());
        TestImages.assertSameContent(original, back);
    }

    @Test
    void rawFileToNbdkitMemoryAndBack() throws Exception {
        Path original = dir.resolve("a.raw");
        TestImages.randomSparseRaw(original, 32 << 20, 22, 30, 512 << 10);
        var s = servers.nbdkit(dir, "memory", "32M");
        copy(original.toString(), s.uri());
        Path back = dir.resolve("back.raw");
        copy(s.uri(), back.toString());
        TestImages.assertSameContent(original, back);
    }

    @Test
    void automaticRequestSizesAre512KiBReadsAnd1MiBWrites() throws Exception {
        Path original = dir.resolve("a.raw");
        byte[] data = new byte[8 << 20];
        new SplittableRandom(5).nextBytes(data);
        Files.write(original, data);
        Path log = dir.resolve("nbdkit.log");
        var s = servers.nbdkit(dir, "--filter=log", "memory", "8M", "logfile=" + log);
        Path back = dir.resolve("back.raw");
        for (String[] fromTo : new String[][] {{original.toString(), s.uri()}, {s.uri(), back.toString()}}) {
            try (ImageSource src = Endpoints.source(fromTo[0]).block(WAIT);
                 ImageSink dst = Endpoints.sink(fromTo[1], src.size()).block(WAIT)) {
                Copy.from(src).to(dst).run().block(WAIT);
            }
        }
        TestImages.assertSameContent(original, back);
        assertEquals(Set.of(1L << 20), requestCounts(log, "Write"), "writes to NBD (nbdkit's log)");
        assertEquals(Set.of(512L << 10), requestCounts(log, "Read"), "reads from NBD (nbdkit's log)");
    }

    /** The distinct {@code count}s of one kind of request in nbdkit's log filter's lines. */
    private static Set<Long> requestCounts(Path log, String kind) {
        Pattern line = Pattern.compile(" " + kind + " id=\\d+ offset=0x\\p{XDigit}+ count=0x(\\p{XDigit}+)");
        return NbdkitLog.lines(log).stream().map(line::matcher).filter(Matcher::find)
                .map(m -> Long.parseLong(m.group(1), 16)).collect(Collectors.toSet());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qemu-nbd", "extentflow"})
    void nbdToNbd(String server) throws Exception {
        Path original = dir.resolve("a.raw");
        TestImages.randomSparseRaw(original, 16 << 20, 23, 50, 256 << 10);
        String src = serve(server, original, "raw", true);
        Path target = dirtyTarget("t.raw", 16 << 20);
        var dst = servers.nbdkit(dir, "file", target.toString());
        copy(src, dst.uri());
        TestImages.assertSameContent(original, target);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qemu-nbd", "extentflow"})
    void qcow2ServedToFileEqualsQemuImgConvert(String server) throws Exception {
        Path raw = dir.resolve("a.raw");
        TestImages.randomSparseRaw(raw, 16 << 20, 24, 30, 256 << 10);
        Path qcow2 = dir.resolve("a.qcow2");
        ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), qcow2.toString());
        String uri = serve(server, qcow2, "qcow2", true);
        Path out = dir.resolve("out.raw");
        copy(uri, out.toString());
        TestImages.assertSameContent(raw, out);
    }

    @Test
    void transientReadErrorsAreRetriedAndTheCopyIsExact() throws Exception {
        Path original = dir.resolve("a.raw");
        TestImages.randomSparseRaw(original, 32 << 20, 25, 60, 1 << 20);
        var s = servers.nbdkit(dir, "--filter=error", "file", original.toString(), "error-pread=EIO",
                "error-pread-rate=30%");
        Path out = dir.resolve("out.raw");
        // The filter fails every read, retries included, with probability 3/10. The rate must make an
        // error certain among the copy's few dozen reads (at 1/10, 0.9^30 = 4 % of runs saw none, and
        // CI failed on it once), and the retries must make giving up impossible in practice: 16 of
        // them leave 0.3^17 = 1e-9 per read. What is under test is that retries happen and the copy
        // is exact.
        try (NbdSource src = NbdSource.open(NbdAddress.parse(s.uri()), NbdClientOptions.defaults().withRetries(16)
                        .withRetryBackoff(Duration.ofMillis(1)), false).block(WAIT);
             ImageSink dst = Endpoints.sink(out.toString(), src.size()).block(WAIT)) {
            Copy.from(src).to(dst).options(CopyOptions.defaults().withRequestSize(1 << 20)).run().block(WAIT);
        }
        TestImages.assertSameContent(original, out);
        assertTrue(s.log().contains("injecting EIO error into pread"), "errors were injected: " + s.log());
    }

    @Test
    void aServerKilledMidCopyFailsTheCopyNamingTheExportAndOffset() throws Exception {
        Path original = dir.resolve("a.raw");
        TestImages.randomSparseRaw(original, 32 << 20, 26, 90, 4 << 20);
        var s = servers.nbdkit(dir, "--filter=delay", "file", original.toString(), "rdelay=100ms");
        // The first read done kills the server; every read asked for after that waits until the
        // server is gone, so the copy cannot finish first however slow the kill is (with all reads
        // in flight at once it once did, on a busy machine). 4 MiB in flight: reads go out a few at a time.
        AtomicBoolean killed = new AtomicBoolean();
        Sinks.Empty<Void> dead = Sinks.empty();
        ImageSource served = Endpoints.source(s.uri()).block(WAIT);
        ImageSource src = new ForwardingImageSource() {
            @Override
            public ImageSource delegate() {
                return served;
            }

            @Override
            public Mono<Void> read(long offset, ByteBuffer target) {
                return killed.get() ? dead.asMono().then(served.read(offset, target)) : served.read(offset, target);
            }
        };
        ImageSink dst = Endpoints.sink(dir.resolve("out.raw").toString(), src.size()).block(WAIT);
        try {
            StepVerifier.create(Copy.from(src).to(dst)
                            .options(CopyOptions.defaults().withRequestSize(1 << 20).withMaxInFlight(4 << 20))
                            .progress()
                            .doOnNext(p -> {
                                if (p.done() > 0 && killed.compareAndSet(false, true)) {
                                    // kill from another thread: a blocking wait does not belong on this one
                                    Thread.ofPlatform().start(() -> {
                                        s.kill();
                                        dead.tryEmitEmpty();
                                    });
                                }
                            })
                            .then())
                    .expectErrorSatisfies(t -> {
                        ImageIoException e = assertInstanceOf(ImageIoException.class, t);
                        assertEquals("read", e.operation());
                        assertTrue(e.getMessage().contains(s.socket().toString()), e.getMessage());
                        assertTrue(e.getMessage().contains("at offset"), e.getMessage());
                    })
                    .verify(WAIT);
            assertTrue(killed.get());
        } finally {
            src.close();
            dst.close();
        }
    }

    @Test
    void aServerThatStopsAnsweringFailsTheCopyWithinTheTimeout() throws Exception {
        var s = servers.nbdkit(dir, "--filter=delay", "sparse-random", "16M", "seed=3", "percent=50",
                "rdelay=30");
        NbdSource src = NbdSource.open(NbdAddress.parse(s.uri()),
                NbdClientOptions.defaults().withTimeout(Duration.ofSeconds(1)), false).block(WAIT);
        ImageSink dst = Endpoints.sink(dir.resolve("out.raw").toString(), src.size()).block(WAIT);
        long t0 = System.nanoTime();
        try {
            StepVerifier.create(Copy.from(src).to(dst).run())
                    .expectErrorSatisfies(t -> assertTrue(t.getMessage().contains("no reply from the server within PT1S"),
                            t.getMessage()))
                    .verify(WAIT);
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(15).toNanos());
        } finally {
            src.close();
            dst.close();
        }
    }
}
