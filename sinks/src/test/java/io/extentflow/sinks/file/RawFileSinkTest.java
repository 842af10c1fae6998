package io.extentflow.sinks.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.capability.Unflushed;
import io.extentflow.engine.copy.NullSink;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import io.extentflow.sinks.ZeroOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.io.TempDirFactory;
import reactor.test.StepVerifier;

class RawFileSinkTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    /** Where page-cache tests write: tmpfs (a common /tmp) keeps every page, as memory is its storage. */
    @TempDir(factory = UnderTarget.class)
    Path diskDir;

    /** Temporary directories under the module's {@code target/}, which lives on the checkout's file system. */
    static final class UnderTarget implements TempDirFactory {
        @Override
        public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext context) throws IOException {
            return Files.createTempDirectory(Files.createDirectories(Path.of("target")), "page-cache-");
        }
    }

    @Test
    void aNewTargetIsSizedSparseAndKnownZero() throws Exception {
        Path t = dir.resolve("new.raw");
        try (ImageSink sink = Endpoints.sink(t.toString(), 1L << 40).block(TIMEOUT)) {
            assertTrue(sink.capabilities().knownZero());
            assertEquals(1L << 40, Files.size(t));
            assertTrue(TestImages.allocatedBytes(t) < (1 << 20));
        }
    }

    @Test
    void anExistingTargetOfTheSameSizeIsOverwrittenAndNotKnownZero() throws Exception {
        Path t = Files.write(dir.resolve("old.raw"), new byte[8192]);
        try (ImageSink sink = Endpoints.sink(t.toString(), 8192).block(TIMEOUT)) {
            assertFalse(sink.capabilities().knownZero());
        }
    }

    @Test
    void anExistingTargetOfAnotherSizeIsRefused() throws Exception {
        Path t = Files.write(dir.resolve("old.raw"), new byte[8192]);
        StepVerifier.create(Endpoints.sink(t.toString(), 4096))
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("has 8192 bytes but the image has 4096"),
                        e.getMessage()))
                .verify(TIMEOUT);
        assertEquals(8192, Files.size(t), "a refused target must not be changed");
    }

    @Test
    void devNullIsTheNullTargetAndOtherCharacterDevicesAreRefused() throws Exception {
        // `extentflow copy IMAGE /dev/null` measures how fast a source reads: it is null:, which keeps
        // nothing and costs no system call
        try (ImageSink sink = Endpoints.sink("/dev/null", 1L << 40).block(TIMEOUT)) {
            assertEquals(NullSink.ADDRESS, sink.endpoint());
            assertTrue(sink.capabilities().knownZero());
            sink.write(1L << 39, ByteBuffer.allocateDirect(4096))
                    .then(sink.zero(0, 3 << 20))
                    .then(sink.flush())
                    .block(TIMEOUT);
        }
        assertEquals(0, Files.size(Path.of("/dev/null")));
        StepVerifier.create(Endpoints.sink("/dev/zero", 4096))
                .expectErrorSatisfies(e -> assertEquals("/dev/zero: is a character device, not a disk image "
                        + "(give null: to discard the image)", e.getMessage()))
                .verify(TIMEOUT);
    }

    @Test
    void aDirectoryOrMissingParentIsRefused() {
        StepVerifier.create(Endpoints.sink(dir.toString(), 4096))
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("is a directory"), e.getMessage()))
                .verify(TIMEOUT);
        StepVerifier.create(Endpoints.sink(dir.resolve("no/such/dir/x.raw").toString(), 4096))
                .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("does not exist"), e.getMessage()))
                .verify(TIMEOUT);
    }

    /** Writes 4 MiB of random bytes (all allocated) to {@code t}; returns them. */
    private static byte[] randomFile(Path t, long seed) throws Exception {
        byte[] data = new byte[4 << 20];
        new SplittableRandom(seed).nextBytes(data);
        Files.write(t, data);
        return data;
    }

    @Test
    void zeroPunchesHolesAndReadsBackAsZeros() throws Exception {
        Path t = dir.resolve("full.raw");
        byte[] data = randomFile(t, 1);
        long before = TestImages.allocatedBytes(t);
        try (ImageSink sink = Endpoints.sink(t.toString(), data.length).block(TIMEOUT)) {
            sink.zero(1 << 20, 2 << 20).then(sink.flush()).block(TIMEOUT);
        }
        byte[] after = Files.readAllBytes(t);
        Arrays.fill(data, 1 << 20, 3 << 20, (byte) 0);
        assertArrayEquals(data, after);
        assertTrue(TestImages.allocatedBytes(t) <= before - (2 << 20), "the zeroed range was not deallocated");
        String map = ExternalTool.check("qemu-img", "map", "--output=json", "-f", "raw", t.toString());
        assertTrue(map.contains("\"start\": 1048576, \"length\": 2097152, \"depth\": 0, \"present\": true, \"zero\": true"),
                map);
    }

    @Test
    void allocatingZeroesKeepsTheRangeAllocated() throws Exception {
        Path t = dir.resolve("dense.raw");
        byte[] data = randomFile(t, 2);
        long before = TestImages.allocatedBytes(t);
        try (ImageSink sink = Endpoints.sink(t.toString(), data.length,
                EndpointOptions.defaults().with(ZeroOptions.ALLOCATE_ZEROES, true)).block(TIMEOUT)) {
            sink.zero(1 << 20, 2 << 20).then(sink.flush()).block(TIMEOUT);
        }
        byte[] after = Files.readAllBytes(t);
        Arrays.fill(data, 1 << 20, 3 << 20, (byte) 0);
        assertArrayEquals(data, after);
        assertTrue(TestImages.allocatedBytes(t) >= before, "the zeroed range was deallocated");
    }

    @Test
    void writtenDataLeavesThePageCacheBeyondTheWindow() throws Exception {
        Path t = diskDir.resolve("evicted.raw");
        byte[] data = writeInPieces(t, EndpointOptions.defaults(), 1 << 20);
        long cached = cachedBytes(t);
        assertTrue(cached <= (1 << 20), "a 1 MiB window left " + cached + " bytes of 16 MiB in the page cache");
        assertArrayEquals(data, Files.readAllBytes(t));
    }

    @Test
    void keepCacheLeavesWrittenDataInThePageCache() throws Exception {
        Path t = diskDir.resolve("cached.raw");
        // aligned direct buffers, which would bypass the cache without keepCache
        writeInPieces(t, EndpointOptions.defaults().with(FileSinkOptions.KEEP_CACHE, true), 1 << 20, true);
        long cached = cachedBytes(t);
        assertEquals(16 << 20, cached, "with keepCache the written data stays cached");
    }

    @Test
    void aCopyThatWillNotFlushWritesThroughThePageCacheAndLeavesItThere() throws Exception {
        Path t = diskDir.resolve("unflushed.raw");
        // aligned direct buffers and a small window: a flushing copy would write them direct
        byte[] data = writeInPieces(t, EndpointOptions.defaults(), 1 << 20, true, true);
        assertEquals(16 << 20, cachedBytes(t), "without a flush the written data stays cached, as after cp");
        assertArrayEquals(data, Files.readAllBytes(t));
    }

    @Test
    void directKeepsDirectWritesInACopyThatWillNotFlush() throws Exception {
        Path t = diskDir.resolve("unflushed-direct.raw");
        byte[] data = writeInPieces(t, EndpointOptions.defaults().with(FileSinkOptions.DIRECT, true), 64 << 20,
                true, true);
        assertEquals(0, cachedBytes(t), "--direct wrote through the page cache");
        assertArrayEquals(data, Files.readAllBytes(t));
    }

    @Test
    void smallAlignedWritesOfAFlushedCopyGoThroughTheWindow() throws Exception {
        // a fragmented image's pieces: each direct write would wait for the disk on its own
        Path t = diskDir.resolve("small.raw");
        byte[] data = randomBytes(16 << 20, 23);
        int piece = 64 << 10;
        try (RawFileSink sink = RawFileSink.open(t, data.length, EndpointOptions.defaults(), 1 << 20).block(TIMEOUT)) {
            for (int off = 0; off < data.length; off += 2 * piece) { // every other piece: a hole between
                sink.write(off, alignedCopy(data, off, piece)).block(TIMEOUT);
            }
            long cached = cachedBytes(t);
            assertTrue(cached > 0 && cached <= (1 << 20) + piece, cached + " bytes cached: the window holds 1 MiB");
            sink.flush().block(TIMEOUT);
        }
        assertEquals(0, cachedBytes(t), "a flushed target is left out of the page cache");
        assertEveryOtherPiece(data, Files.readAllBytes(t), piece);
    }

    @Test
    void piecesOfAFlushedCopyGoThroughTheWindowAsOneRangeEach() throws Exception {
        // a gathered request of a fragmented image: 4 KiB pieces with 4 KiB holes, 512 KiB per call
        Path t = diskDir.resolve("pieces.raw");
        byte[] data = randomBytes(16 << 20, 29);
        int piece = 4096;
        int request = 512 << 10;
        try (RawFileSink sink = RawFileSink.open(t, data.length, EndpointOptions.defaults(), 1 << 20).block(TIMEOUT)) {
            for (int off = 0; off < data.length; off += request) {
                List<Extent> pieces = new ArrayList<>();
                for (int p = off; p < off + request; p += 2 * piece) {
                    pieces.add(Extent.data(p, piece));
                }
                sink.writePieces(off, alignedCopy(data, off, request), pieces).block(TIMEOUT);
            }
            long cached = cachedBytes(t);
            assertTrue(cached > 0 && cached <= (1 << 20) + request, cached + " bytes cached: the window holds 1 MiB");
            sink.flush().block(TIMEOUT);
        }
        assertEquals(0, cachedBytes(t), "a flushed target is left out of the page cache");
        assertEveryOtherPiece(data, Files.readAllBytes(t), piece);
    }

    @Test
    void keepCacheAndDirectTogetherAreRefusedBeforeAFileIsCreated() {
        Path t = diskDir.resolve("never.raw");
        EndpointOptions both = EndpointOptions.defaults().with(FileSinkOptions.DIRECT, true)
                .with(FileSinkOptions.KEEP_CACHE, true);
        StepVerifier.create(RawFileSink.open(t, 1 << 20, both))
                .expectErrorSatisfies(e -> assertEquals("--keep-cache and --direct contradict each other; give one",
                        e.getMessage()))
                .verify(TIMEOUT);
        assertFalse(Files.exists(t));
    }

    @Test
    void alignedWritesFromDirectMemoryBypassThePageCache() throws Exception {
        Path t = diskDir.resolve("direct.raw");
        // a window larger than the data: what went through the cache would still be there
        byte[] data = writeInPieces(t, EndpointOptions.defaults(), 64 << 20, true);
        assertEquals(0, cachedBytes(t), "aligned writes from direct buffers went through the page cache");
        assertArrayEquals(data, Files.readAllBytes(t));
    }

    @Test
    void unalignedPiecesGoThroughTheCacheAndEveryByteLands() throws Exception {
        Path t = diskDir.resolve("mixed.raw");
        int mib = 1 << 20;
        int size = 8 * mib + 1000; // a partial last page
        byte[] data = randomBytes(size, 11);
        try (RawFileSink sink = RawFileSink.open(t, size, EndpointOptions.defaults(), 64 << 20).block(TIMEOUT)) {
            // direct: aligned memory, offset and length
            sink.write(0, alignedCopy(data, 0, mib)).block(TIMEOUT);
            // cached: a length that is not whole pages, then an offset that is not on a page
            sink.write(mib, alignedCopy(data, mib, 100)).block(TIMEOUT);
            sink.write(mib + 100, alignedCopy(data, mib + 100, mib - 100)).block(TIMEOUT);
            // cached: aligned offset and length in memory that is not aligned, then heap memory
            ByteBuffer misaligned = alignedCopy(new byte[mib + 512], 0, mib + 512).position(512);
            misaligned.slice().put(data, 2 * mib, mib);
            sink.write(2 * mib, misaligned).block(TIMEOUT);
            sink.write(3 * mib, ByteBuffer.wrap(data, 3 * mib, mib)).block(TIMEOUT);
            // direct again, then the cached partial page at the end
            sink.write(4 * mib, alignedCopy(data, 4 * mib, 4 * mib)).block(TIMEOUT);
            sink.write(8 * mib, alignedCopy(data, 8 * mib, 1000)).block(TIMEOUT);
            long cached = cachedBytes(t);
            assertTrue(cached <= 3 * mib + 4096, cached + " bytes cached: more than the 3 MiB and the last page "
                    + "written through the cache");
            sink.flush().block(TIMEOUT);
        }
        assertArrayEquals(data, Files.readAllBytes(t));
    }

    @Test
    void aBlockDeviceWithFourKibSectorsTakesDirectWritesAndZeros() throws Exception {
        // a loop device with 4 KiB logical sectors: direct writes must be whole sectors, and a device
        // gets its zeros written (never punched); it starts full of other bytes
        Path backing = diskDir.resolve("loop.img");
        byte[] old = randomBytes(8 << 20, 17);
        Files.write(backing, old);
        String device = ExternalTool.check("losetup", "--find", "--show", "--sector-size", "4096",
                backing.toString()).trim();
        try {
            byte[] data = randomBytes(8 << 20, 19);
            Arrays.fill(data, 2 << 20, 5 << 20, (byte) 0);
            try (RawFileSink sink = RawFileSink.open(Path.of(device), data.length, EndpointOptions.defaults(),
                    1 << 20).block(TIMEOUT)) {
                sink.write(0, alignedCopy(data, 0, 2 << 20))
                        .then(sink.zero(2 << 20, 3 << 20))
                        .then(sink.write(5 << 20, alignedCopy(data, 5 << 20, 3 << 20)))
                        .then(sink.flush())
                        .block(TIMEOUT);
            }
            ExternalTool.check("losetup", "--detach", device);
            device = null;
            assertArrayEquals(data, Files.readAllBytes(backing));
        } finally {
            if (device != null) {
                ExternalTool.run("losetup", "--detach", device);
            }
        }
    }

    @Test
    void aFileSystemWithoutDirectIoTakesEveryWriteThroughTheCache() throws Exception {
        // ramfs refuses O_DIRECT (EINVAL at open): the sink must fall back, not fail
        Path mnt = Files.createDirectory(dir.resolve("ramfs"));
        ExternalTool.check("mount", "-t", "ramfs", "ramfs", mnt.toString());
        try {
            Path t = mnt.resolve("t.raw");
            byte[] data = randomBytes(4 << 20, 13);
            try (RawFileSink sink = RawFileSink.open(t, data.length, EndpointOptions.defaults(), 1 << 20)
                    .block(TIMEOUT)) {
                sink.write(0, alignedCopy(data, 0, data.length)).then(sink.flush()).block(TIMEOUT);
            }
            assertArrayEquals(data, Files.readAllBytes(t));
        } finally {
            ExternalTool.check("umount", mnt.toString());
        }
    }

    @Test
    void flushDropsWhatTheWindowStillHeld() throws Exception {
        Path t = diskDir.resolve("flushed.raw");
        try (RawFileSink sink = RawFileSink.open(t, 4 << 20, EndpointOptions.defaults(), 8 << 20).block(TIMEOUT)) {
            sink.write(0, ByteBuffer.wrap(randomBytes(4 << 20, 7))).block(TIMEOUT);
            assertEquals(4 << 20, cachedBytes(t), "below the window nothing is dropped before the flush");
            sink.flush().block(TIMEOUT);
        }
        assertEquals(0, cachedBytes(t), "a flushed target is left out of the page cache");
    }

    /**
     * Writes 16 MiB of random data in 256 KiB pieces through a sink with a page-cache window of
     * {@code limit}, from heap buffers or from page-aligned direct ones ({@code aligned}).
     */
    private static byte[] writeInPieces(Path t, EndpointOptions options, long limit, boolean aligned) {
        return writeInPieces(t, options, limit, aligned, false);
    }

    /** As above; {@code unflushed}: the sink is told first that no flush will follow (copy --no-flush). */
    private static byte[] writeInPieces(Path t, EndpointOptions options, long limit, boolean aligned,
                                        boolean unflushed) {
        byte[] data = randomBytes(16 << 20, 3);
        // aligned pieces large enough to go direct in a flushed copy
        int piece = aligned ? RawFileSink.MIN_DIRECT : 256 << 10;
        try (RawFileSink sink = RawFileSink.open(t, data.length, options, limit).block(TIMEOUT)) {
            if (unflushed) {
                sink.sinkCapability(Unflushed.class).orElseThrow().willNotFlush();
            }
            for (int off = 0; off < data.length; off += piece) {
                sink.write(off, aligned ? alignedCopy(data, off, piece) : ByteBuffer.wrap(data, off, piece))
                        .block(TIMEOUT);
            }
        }
        return data;
    }

    private static byte[] writeInPieces(Path t, EndpointOptions options, long limit) {
        return writeInPieces(t, options, limit, false);
    }

    /** {@code length} bytes of {@code data} from {@code offset} in direct memory that starts on a 4 KiB page. */
    private static ByteBuffer alignedCopy(byte[] data, int offset, int length) {
        int pages = (length + 4095) / 4096;
        ByteBuffer b = ByteBuffer.allocateDirect((pages + 1) * 4096).alignedSlice(4096);
        return b.put(data, offset, length).flip();
    }

    private static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    /** Bytes of {@code file} in the page cache, as util-linux fincore counts them. */
    private static long cachedBytes(Path file) {
        ExternalTool.require("fincore");
        ExternalTool.Result r = ExternalTool.run("fincore", "--bytes", "--noheadings", "--output", "RES",
                file.toString());
        assertEquals(0, r.exitCode(), r.stderr());
        return Long.parseLong(r.stdout().trim());
    }

    @Test
    void writesLandAtTheirOffsets() throws Exception {
        Path t = dir.resolve("w.raw");
        try (ImageSink sink = Endpoints.sink(t.toString(), 1 << 20).block(TIMEOUT)) {
            sink.write(4096, ByteBuffer.wrap(new byte[] {1, 2, 3})).then(sink.flush()).block(TIMEOUT);
        }
        byte[] got = Files.readAllBytes(t);
        assertEquals(1 << 20, got.length);
        assertEquals(1, got[4096]);
        assertEquals(3, got[4098]);
        assertEquals(0, got[4099]);
    }

    @Test
    void piecesLandAtTheirOffsetsAndTheBytesBetweenThemAreNotWritten() throws Exception {
        Path t = dir.resolve("p.raw");
        byte[] garbage = new byte[1 << 20];
        new SplittableRandom(3).nextBytes(garbage);
        Files.write(t, garbage); // an existing target: what lies between the pieces must stay as it was
        ByteBuffer data = ByteBuffer.allocateDirect(512 << 10);
        byte[] src = new byte[512 << 10];
        new SplittableRandom(4).nextBytes(src);
        data.put(src).flip();
        data.position(4096); // pieces count from the buffer's position, here image offset 64 KiB
        List<Extent> pieces = List.of(Extent.data(65536, 4096), Extent.data(65536 + 12288, 8192),
                Extent.data(65536 + 262144, 65536));
        try (ImageSink sink = Endpoints.sink(t.toString(), 1 << 20).block(TIMEOUT)) {
            sink.writePieces(65536, data, pieces).then(sink.flush()).block(TIMEOUT);
        }
        byte[] want = garbage.clone();
        for (Extent p : pieces) {
            System.arraycopy(src, 4096 + (int) (p.start() - 65536), want, (int) p.start(), (int) p.length());
        }
        assertArrayEquals(want, Files.readAllBytes(t));
    }

    @Test
    void aPieceOutOfRangeIsAnErrorAndNothingIsWritten() throws Exception {
        Path t = dir.resolve("w.raw");
        try (ImageSink sink = Endpoints.sink(t.toString(), 8192).block(TIMEOUT)) {
            StepVerifier.create(sink.writePieces(0, ByteBuffer.allocate(16384),
                            List.of(Extent.data(0, 4096), Extent.data(8000, 4096))))
                    .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("offset 8000"), e.getMessage()))
                    .verify(TIMEOUT);
        }
        assertArrayEquals(new byte[8192], Files.readAllBytes(t));
    }

    @Test
    void outOfRangeWriteIsAnErrorNamingTheRange() throws Exception {
        Path t = dir.resolve("w.raw");
        try (ImageSink sink = Endpoints.sink(t.toString(), 4096).block(TIMEOUT)) {
            StepVerifier.create(sink.write(4000, ByteBuffer.allocate(200)))
                    .expectErrorSatisfies(e -> {
                        assertTrue(e instanceof ImageIoException);
                        assertTrue(e.getMessage().contains("offset 4000") && e.getMessage().contains("outside"),
                                e.getMessage());
                    })
                    .verify(TIMEOUT);
        }
    }

    @Test
    void aFullFileSystemGivesNoSpaceLeftNamingTheOffset() throws Exception {
        Path mnt = Files.createDirectory(dir.resolve("small"));
        ExternalTool.check("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt.toString());
        try {
            Path t = mnt.resolve("t.raw");
            try (ImageSink sink = Endpoints.sink(t.toString(), 8 << 20).block(TIMEOUT)) {
                ByteBuffer chunk = ByteBuffer.allocateDirect(4 << 20);
                StepVerifier.create(sink.write(0, chunk).then(sink.write(4 << 20, chunk.clear())))
                        .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("No space left on device"),
                                e.getMessage()))
                        .verify(TIMEOUT);
            }
        } finally {
            ExternalTool.check("umount", mnt.toString());
        }
    }

    /** {@code back} holds {@code data}'s even pieces of {@code piece} bytes and zeros in the odd ones. */
    private static void assertEveryOtherPiece(byte[] data, byte[] back, int piece) {
        for (int off = 0; off < data.length; off += 2 * piece) {
            assertArrayEquals(Arrays.copyOfRange(data, off, off + piece), Arrays.copyOfRange(back, off, off + piece));
            assertArrayEquals(new byte[piece], Arrays.copyOfRange(back, off + piece, off + 2 * piece));
        }
    }
}
