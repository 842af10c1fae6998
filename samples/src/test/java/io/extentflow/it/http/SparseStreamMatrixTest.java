package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sinks.stream.SparseStreamSink;
import io.extentflow.sources.stream.SparseStreamSource;
import java.nio.channels.Pipe;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Raw, qcow2 and NBD sources through each way a sparse stream travels (a pipe, a .sparse file, one
 * HTTP request each way), back into a raw file: byte-identical and still sparse.
 */
class SparseStreamMatrixTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final long SIZE = 16L << 20;

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    /** The address of the test image as {@code kind} (raw file, qcow2 file, NBD export of the raw file). */
    String source(String kind, Path raw) throws Exception {
        return switch (kind) {
            case "raw" -> raw.toString();
            case "qcow2" -> {
                Path q = dir.resolve("src.qcow2");
                ExternalTool.check("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(), q.toString());
                yield q.toString();
            }
            default -> servers.qemuNbd(dir, "-f", "raw", "-r", raw.toString()).uri();
        };
    }

    static void copy(String from, String to, EndpointOptions options) {
        ImageSource src = Endpoints.source(from, options).block(TIMEOUT);
        try (src; ImageSink dst = Endpoints.sink(to, src.size(), options).block(TIMEOUT)) {
            Copy.from(src).to(dst).run().block(TIMEOUT);
        }
    }

    @ParameterizedTest
    @CsvSource({"raw, pipe", "raw, file", "raw, http", "qcow2, pipe", "qcow2, file", "qcow2, http",
        "nbd, pipe", "nbd, file", "nbd, http"})
    void roundTrip(String kind, String way) throws Exception {
        Path raw = dir.resolve("src.raw");
        List<TestImages.Run> runs = TestImages.randomSparseRaw(raw, SIZE, kind.hashCode() + way.hashCode(), 30,
                1 << 20);
        String from = source(kind, raw);
        Path back = dir.resolve("back.raw");
        switch (way) {
            case "file" -> {
                Path stream = dir.resolve("img.sparse");
                copy(from, stream.toString(), EndpointOptions.defaults());
                copy(stream.toString(), back.toString(), EndpointOptions.defaults());
            }
            case "pipe" -> {
                Pipe pipe = Pipe.open();
                ImageSource src = Endpoints.source(from).block(TIMEOUT);
                Mono<?> writer = Copy.from(src).to(new SparseStreamSink(pipe.sink(), false, "pipe", src.size()))
                        .run().doFinally(s -> {
                            try {
                                pipe.sink().close();
                            } catch (java.io.IOException ignored) {
                                // test cleanup
                            }
                        });
                SparseStreamSource reader = new SparseStreamSource(pipe.source(), "pipe");
                try (src; ImageSink dst = Endpoints.sink(back.toString(), reader.size()).block(TIMEOUT)) {
                    Mono.when(writer.subscribeOn(Schedulers.boundedElastic()),
                            Copy.from(reader).to(dst).options(CopyOptions.defaults()).run()
                                    .subscribeOn(Schedulers.boundedElastic())).block(TIMEOUT);
                }
            }
            default -> {
                // the ticket's target must exist with the image's size
                Path middle = dir.resolve("middle.raw");
                try (var file = new java.io.RandomAccessFile(middle.toFile(), "rw")) {
                    file.setLength(SIZE);
                }
                try (ServerFixture f = new ServerFixture(dir)) {
                    String url = f.addTicket("m", middle, SIZE, "read", "write");
                    EndpointOptions stream = EndpointOptions.defaults().with(HttpOptions.HTTP_STREAM, true);
                    copy(from, url, stream);   // one PUT ?format=sparse
                    copy(url, back.toString(), stream);   // one GET ?format=sparse
                }
            }
        }
        TestImages.assertSameContent(raw, back);
        long data = runs.stream().filter(r -> !r.kind().equals("zero")).mapToLong(TestImages.Run::length).sum();
        assertTrue(TestImages.allocatedBytes(back) <= data + data / 100 + 4096,
                kind + " via " + way + ": the copy back is not sparse");
    }
}
