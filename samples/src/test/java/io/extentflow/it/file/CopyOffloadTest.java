package io.extentflow.it.file;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.io.OpenFile;
import io.extentflow.engine.io.Posix;
import io.extentflow.engine.testing.BlockHoundChecks;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sinks.file.FileSinkOptions;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Local raw file to local file copies with the kernel's copy offload ({@code copy_file_range}) and
 * without it ({@code --no-offload}): both byte-exact, only the second finds zeros in data.
 */
class CopyOffloadTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private static final EndpointOptions NO_OFFLOAD = EndpointOptions.defaults().with(FileSinkOptions.NO_OFFLOAD, true);
    /** Offload on every file system: the tests' folder may be on one (ext4) where it is not the default. */
    private static final EndpointOptions OFFLOAD = EndpointOptions.defaults().with(FileSinkOptions.OFFLOAD, true);

    @TempDir
    Path dir;

    static CopyResult copy(Path from, Path to, CopyOptions options, EndpointOptions targetOptions) {
        ImageSource src = Endpoints.source(from.toString()).block(TIMEOUT);
        try (src; ImageSink dst = Endpoints.sink(to.toString(), src.size(), targetOptions).block(TIMEOUT)) {
            // subscribed from a parallel thread: BlockHound fails the copy if a system call runs there
            return BlockHoundChecks.allowedFromParallel(Copy.from(src).to(dst).options(options).run());
        }
    }

    static long allRuns(List<TestImages.Run> runs) {
        return runs.stream().mapToLong(TestImages.Run::length).sum();
    }

    static long nonZeroRuns(List<TestImages.Run> runs) {
        return runs.stream().filter(r -> !r.kind().equals("zero")).mapToLong(TestImages.Run::length).sum();
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void offloadedAndNotOffloadedCopiesAreByteExact(long seed) throws Exception {
        Path src = dir.resolve("src.raw");
        // an unaligned size: the last data run ends off any block boundary
        long size = (40L << 20) + 12_345;
        List<TestImages.Run> runs = TestImages.randomSparseRaw(src, size, seed, 40, 3 << 20);
        CopyOptions options = CopyOptions.defaults().withRequestSize(1 << 20).withMaxInFlight(8 << 20);

        Path offloaded = dir.resolve("offloaded.raw");
        CopyResult on = copy(src, offloaded, options, OFFLOAD);
        TestImages.assertSameContent(src, offloaded);
        // every allocated range of the source, written zeros included, is data the kernel copied
        assertEquals(allRuns(runs), on.offloadedBytes(), "offloaded bytes");
        assertEquals(on.offloadedBytes(), on.dataBytes(), "offloaded bytes are counted as data");
        assertEquals(on.dataBytes(), on.readBytes(), "and as read");
        assertEquals(size, on.dataBytes() + on.zeroedBytes() + on.skippedBytes());

        Path copied = dir.resolve("copied.raw");
        CopyResult off = copy(src, copied, options, NO_OFFLOAD);
        TestImages.assertSameContent(src, copied);
        assertEquals(0, off.offloadedBytes());
        assertEquals(nonZeroRuns(runs), off.dataBytes(), "without offload, zero detection finds the written zeros");
        assertEquals(allRuns(runs), off.readBytes());
    }

    @Test
    void anUnalignedFullFileIsOffloadedExactly() throws Exception {
        Path src = dir.resolve("odd.raw");
        byte[] bytes = new byte[10_000_001];
        new SplittableRandom(8).nextBytes(bytes);
        Files.write(src, bytes);
        Path dst = dir.resolve("odd.copy");
        CopyResult r = copy(src, dst, CopyOptions.defaults().withRequestSize(1 << 20), OFFLOAD);
        TestImages.assertSameContent(src, dst);
        assertEquals(bytes.length, r.offloadedBytes());
    }

    @Test
    void intoAnExistingTargetOffloadedDataReplacesWhatWasThere() throws Exception {
        Path src = dir.resolve("src.raw");
        TestImages.randomSparseRaw(src, 16L << 20, 11, 50, 1 << 20);
        Path dst = dir.resolve("old.raw");
        byte[] junk = new byte[16 << 20];
        new SplittableRandom(12).nextBytes(junk);
        Files.write(dst, junk);
        CopyResult r = copy(src, dst, CopyOptions.defaults(), OFFLOAD);
        TestImages.assertSameContent(src, dst);
        assertTrue(r.offloadedBytes() > 0, "offloaded " + r.offloadedBytes());
    }

    /** A qcow2 source's guest offsets are not its file's: nothing is offloaded, and the copy is exact. */
    @Test
    void aQcow2SourceIsNotOffloaded() throws Exception {
        Path raw = dir.resolve("src.raw");
        TestImages.randomSparseRaw(raw, 8L << 20, 31, 50, 1 << 20);
        Path qcow2 = dir.resolve("src.qcow2");
        Process p = new ProcessBuilder("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw.toString(),
                qcow2.toString()).inheritIO().start();
        assertEquals(0, p.waitFor(), "qemu-img convert");
        Path dst = dir.resolve("dst.raw");
        CopyResult r = copy(qcow2, dst, CopyOptions.defaults().withRequestSize(1 << 20), OFFLOAD);
        TestImages.assertSameContent(raw, dst);
        assertEquals(0, r.offloadedBytes());
        assertTrue(r.dataBytes() > 0);
    }

    /**
     * A source on another file system (tmpfs in /dev/shm, the target on the disk): since Linux 5.19
     * copy_file_range refuses files of two different file systems (EXDEV), and the copy goes on with
     * reads and writes. Whether this kernel refuses is asked of it directly, and the copy must agree.
     */
    @Test
    void aSourceOnAnotherFileSystemFallsBackToReadsAndWrites() throws Exception {
        Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "extentflow-offload-");
        try {
            Path src = shm.resolve("src.raw");
            List<TestImages.Run> runs = TestImages.randomSparseRaw(src, (24L << 20) + 4095, 21, 50, 2 << 20);
            Path dst = dir.resolve("dst.raw");
            boolean kernelRefuses = refusesCopyBetween(src, dir);
            CopyResult r = copy(src, dst, CopyOptions.defaults().withRequestSize(1 << 20), OFFLOAD);
            TestImages.assertSameContent(src, dst);
            if (kernelRefuses) {
                assertEquals(0, r.offloadedBytes(), "the kernel refused: nothing may count as offloaded");
                assertEquals(nonZeroRuns(runs), r.dataBytes(), "the fallback detects zeros again");
            } else {
                assertEquals(allRuns(runs), r.offloadedBytes());
            }
        } finally {
            deleteTree(shm);
        }
    }

    /**
     * By default the kernel copies only where that is cheap (block sharing, server-side copy): tmpfs
     * copies the bytes itself, so a copy there reads, scans and writes as without offload, and
     * {@code --offload} (OFFLOAD) makes the kernel copy anyway.
     */
    @Test
    void byDefaultAFileSystemThatCopiesTheBytesItselfIsNotOffloaded() throws Exception {
        Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "extentflow-offload-");
        try {
            Path src = shm.resolve("src.raw");
            List<TestImages.Run> runs = TestImages.randomSparseRaw(src, 8L << 20, 41, 50, 1 << 20);
            Path byDefault = shm.resolve("default.raw");
            CopyResult d = copy(src, byDefault, CopyOptions.defaults().withRequestSize(1 << 20),
                    EndpointOptions.defaults());
            TestImages.assertSameContent(src, byDefault);
            assertEquals(0, d.offloadedBytes(), "tmpfs copies the bytes itself: not offloaded by default");
            assertEquals(nonZeroRuns(runs), d.dataBytes(), "zeros are detected as without offload");
            Path forced = shm.resolve("forced.raw");
            CopyResult f = copy(src, forced, CopyOptions.defaults().withRequestSize(1 << 20), OFFLOAD);
            TestImages.assertSameContent(src, forced);
            assertEquals(allRuns(runs), f.offloadedBytes(), "--offload: the kernel copies every data run");
        } finally {
            deleteTree(shm);
        }
    }

    /** Whether copy_file_range from {@code src} to a new file in {@code targetDir} fails with a fallback errno. */
    private static boolean refusesCopyBetween(Path src, Path targetDir) throws IOException {
        Path probe = targetDir.resolve("probe");
        try (RandomAccessFile f = new RandomAccessFile(probe.toFile(), "rw")) {
            f.setLength(4096);
        }
        try (OpenFile in = OpenFile.readOnly(src); OpenFile out = OpenFile.readWrite(probe, false)) {
            Posix.copyFileRange(in.fd(), 0, out.fd(), 0, 4096);
            return false;
        } catch (Posix.ErrnoException e) {
            assertTrue(e.errno() == Posix.EXDEV || e.errno() == Posix.EOPNOTSUPP || e.errno() == Posix.EINVAL
                    || e.errno() == Posix.ENOSYS, e::getMessage);
            return true;
        } finally {
            Files.delete(probe);
        }
    }

    @Test
    void copyFileRangeIsASystemCallBlockHoundKeepsOffParallelThreads() throws Exception {
        Path a = Files.write(dir.resolve("a"), new byte[4096]);
        Path b = Files.write(dir.resolve("b"), new byte[4096]);
        try (OpenFile in = OpenFile.readOnly(a); OpenFile out = OpenFile.readWrite(b, false)) {
            BlockHoundChecks.caughtOnParallel(() -> Posix.copyFileRange(in.fd(), 0, out.fd(), 0, 4096));
        }
    }

    /** Removes a folder made outside the test's temporary folder (tmpfs in /dev/shm) with what it holds. */
    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
