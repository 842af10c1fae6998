package io.extentflow.perf;

import io.extentflow.engine.copy.ZeroDetector;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Zero detection on one 4 MiB direct buffer (the copy's default request), 4 KiB blocks.
 * GB/s = 4194.3 / (µs per op).
 *
 * <p>Cases: {@code zero} (all zeros: every byte must be looked at, the case that matters for
 * throughput), {@code data} (random bytes: each block is decided at its first byte) and
 * {@code lastByte} (zeros except the last byte of every block: the worst case for data).
 *
 * <p>Sample mode: on a shared machine the median of single calls is far steadier than an average
 * that includes preempted calls.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class ZeroDetectorBenchmark {

    static final int SIZE = 4 << 20;

    @Param({"zero", "data", "lastByte"})
    public String content;

    private ByteBuffer buffer;
    private MemorySegment segment;

    @Setup(Level.Trial)
    public void fill() {
        buffer = ByteBuffer.allocateDirect(SIZE);
        byte[] bytes = new byte[SIZE];
        switch (content) {
            case "data" -> new SplittableRandom(1).nextBytes(bytes);
            case "lastByte" -> {
                for (int i = ZeroBlockTests.BLOCK - 1; i < SIZE; i += ZeroBlockTests.BLOCK) {
                    bytes[i] = 1;
                }
            }
            default -> { }
        }
        buffer.put(bytes).flip();
        segment = MemorySegment.ofBuffer(buffer);
    }

    /** The engine's scan: runs of zero and data blocks. Returns the number of runs. */
    @Benchmark
    public int engineScan() {
        int[] runs = new int[1];
        ZeroDetector.scan(buffer.duplicate(), (off, len, zero) -> runs[0]++);
        return runs[0];
    }

    /** The engine's whole-buffer test (stops at the first non-zero block). */
    @Benchmark
    public boolean engineIsZero() {
        return ZeroDetector.isZero(buffer.duplicate());
    }

    @Benchmark
    public int mismatchHeapZeros() {
        int zero = 0;
        for (long off = 0; off < SIZE; off += ZeroBlockTests.BLOCK) {
            zero += ZeroBlockTests.mismatchHeapZeros(segment, off) ? 1 : 0;
        }
        return zero;
    }

    @Benchmark
    public int mismatchNativeZeros() {
        int zero = 0;
        for (long off = 0; off < SIZE; off += ZeroBlockTests.BLOCK) {
            zero += ZeroBlockTests.mismatchNativeZeros(segment, off) ? 1 : 0;
        }
        return zero;
    }

    @Benchmark
    public int longOr() {
        int zero = 0;
        for (long off = 0; off < SIZE; off += ZeroBlockTests.BLOCK) {
            zero += ZeroBlockTests.longOr(segment, off) ? 1 : 0;
        }
        return zero;
    }

    @Benchmark
    public int byteBufferMismatch() {
        int zero = 0;
        for (int off = 0; off < SIZE; off += ZeroBlockTests.BLOCK) {
            zero += ZeroBlockTests.byteBufferMismatch(buffer, off) ? 1 : 0;
        }
        return zero;
    }
}
