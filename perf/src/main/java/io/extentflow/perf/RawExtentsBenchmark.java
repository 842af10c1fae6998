package io.extentflow.perf;

import io.extentflow.sources.file.RawFileSource;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * Extent discovery of a fragmented raw file: all extents of the image through the public
 * {@code extents()} Flux (windows on the file I/O scheduler) and through the blocking
 * {@code scan()} alone, to see what the reactive plumbing costs.
 *
 * <p>By default the image is built in {@code @Setup}: 1 GiB with 4 KiB of data at the start of every
 * 64 KiB (16,384 data extents + 16,384 holes, as fragmented as make-images.sh's {@code frag-4g.raw}
 * per byte but built in a second). {@code -p image=/path/frag-4g.raw} measures an existing image.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class RawExtentsBenchmark {

    /** An existing image to map, or empty to build the default one. */
    @Param({""})
    public String image;

    private Path built;
    private RawFileSource source;

    @Setup(Level.Trial)
    public void open() throws IOException {
        Path path;
        if (image.isEmpty()) {
            built = Files.createTempFile(Path.of(System.getProperty("java.io.tmpdir")), "frag-1g-", ".raw");
            buildFragmented(built, 1L << 30, 64 << 10, 4 << 10);
            path = built;
        } else {
            path = Path.of(image);
        }
        source = RawFileSource.open(path).block();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        source.close();
        if (built != null) {
            Files.deleteIfExists(built);
        }
    }

    /** All extents through the reactive API. Returns their number. */
    @Benchmark
    public long extentsFlux() {
        return source.extents(0, source.size()).count().block();
    }

    /** The same lseek walk, on this thread, without Reactor. */
    @Benchmark
    public int scanBlocking() throws IOException {
        return source.scan(0, source.size()).size();
    }

    static void buildFragmented(Path path, long size, int stride, int dataLength) throws IOException {
        ByteBuffer data = ByteBuffer.allocateDirect(dataLength);
        while (data.hasRemaining()) {
            data.put((byte) 0x5a);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            for (long off = 0; off < size; off += stride) {
                ch.write(data.clear(), off);
            }
        }
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.setLength(size);
        }
    }
}
