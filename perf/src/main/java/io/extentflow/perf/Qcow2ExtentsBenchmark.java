package io.extentflow.perf;

import io.extentflow.sources.qcow2.Qcow2Source;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Extent iteration of a qcow2 image: all extents of an empty 1 TiB image (made with
 * {@code qemu-img create -f qcow2 x 1T} in {@code @Setup}), through the public {@code extents()}
 * Flux. TiB/s = 1 / (seconds per op). The goal is 100 TiB/s; go-qcow2reader reports about
 * 10 TiB/s. {@code -p image=/path/x.qcow2} measures another image (e.g. make-images.sh's
 * {@code sparse-8g.qcow2}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class Qcow2ExtentsBenchmark {

    /** An existing image, or empty to create the empty 1 TiB one. */
    @Param({""})
    public String image;

    private Path dir;
    private Qcow2Source source;

    @Setup(Level.Trial)
    public void open() throws Exception {
        Path path;
        if (image.isEmpty()) {
            dir = Files.createTempDirectory("qcow2-bench-");
            path = dir.resolve("empty-1t.qcow2");
            Process p = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", path.toString(), "1T")
                    .inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IOException("qemu-img create failed (apt-get install -y qemu-utils)");
            }
        } else {
            path = Path.of(image);
        }
        source = Qcow2Source.open(path, false).block();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        source.close();
        if (dir != null) {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    /** All extents of the image; returns how many there are (1 for the empty image). */
    @Benchmark
    public long extents() {
        return source.extents(0, source.size()).count().block();
    }
}
