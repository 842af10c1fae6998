package io.extentflow.engine.dirty;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.nbd.NbdExtent;
import io.extentflow.engine.testing.MemoryImage;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * The merge of allocation and dirty bitmap, window by window, and an incremental copy of a memory
 * image through {@link IncrementalSource}: dirty data written, dirty zeros zeroed, clean ranges left
 * as the target had them.
 */
class IncrementalSourceTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** A bitmap as a list of ranges, answering any window by clipping. */
    private record ListBitmap(List<NbdExtent> all) implements DirtyExtents {
        @Override
        public String bitmap() {
            return "test";
        }

        @Override
        public Flux<NbdExtent> map(long start, long length) {
            long end = start + length;
            return Flux.fromIterable(all).filter(e -> e.end() > start && e.offset() < end)
                    .map(e -> {
                        long s = Math.max(start, e.offset());
                        return new NbdExtent(s, Math.min(end, e.end()) - s, e.flags());
                    });
        }
    }

    @Test
    void mergeCutsAtEveryBoundaryOfEitherAcrossWindows() {
        int size = 1 << 20;
        MemoryImage src = MemoryImage.source(new byte[size], List.of(Extent.data(0, 300_000),
                Extent.zero(300_000, 200_000), Extent.hole(500_000, size - 500_000)));
        ListBitmap bitmap = new ListBitmap(List.of(new NbdExtent(0, 65536, 0), new NbdExtent(65536, 393216, 1),
                new NbdExtent(458752, 131072, 0), new NbdExtent(589824, size - 589824, 1)));
        List<DirtyExtent> expected = List.of(new DirtyExtent(0, 65536, false, false),
                new DirtyExtent(65536, 300_000 - 65536, true, false),
                new DirtyExtent(300_000, 458752 - 300_000, true, true),
                new DirtyExtent(458752, 131072, false, true),
                new DirtyExtent(589824, size - 589824, true, true));
        // windows smaller than the extents, and not aligned to them: the result is the same, merged
        for (long window : new long[] {DirtyMerge.DEFAULT_WINDOW, 100_000, 4096, 65536}) {
            assertEquals(expected, DirtyMerge.extents(src, bitmap, 0, size, window).collectList().block(TIMEOUT),
                    "window " + window);
        }
        assertEquals(List.of(new DirtyExtent(70_000, 230_000, true, false), new DirtyExtent(300_000, 10, true, true)),
                DirtyMerge.extents(src, bitmap, 70_000, 230_010, 4096).collectList().block(TIMEOUT));
    }

    @Test
    void aBitmapWithAGapFailsNamingTheSource() {
        MemoryImage src = MemoryImage.source(new byte[1 << 16], List.of(Extent.data(0, 1 << 16)));
        ListBitmap gap = new ListBitmap(List.of(new NbdExtent(0, 4096, 1), new NbdExtent(8192, 57344, 0)));
        ImageIoException e = assertThrows(ImageIoException.class,
                () -> DirtyMerge.extents(src, gap, 0, 1 << 16).collectList().block(TIMEOUT));
        assertTrue(e.getMessage().contains(src.endpoint()) && e.getMessage().contains("gap at 4096"), e.getMessage());
        ImageIoException viaSource = assertThrows(ImageIoException.class,
                () -> new IncrementalSource(src, gap).extents(0, 1 << 16).collectList().block(TIMEOUT));
        assertTrue(viaSource.getMessage().contains(src.endpoint())
                && viaSource.getMessage().contains("qemu:dirty-bitmap:test has a gap at 4096"), viaSource.getMessage());
    }

    @Test
    void incrementalCopyWritesDirtyDataZeroesDirtyZerosAndSkipsTheRest() {
        int size = 256 << 10;
        byte[] now = new byte[size];
        new SplittableRandom(5).nextBytes(now);
        Arrays.fill(now, 64 << 10, 128 << 10, (byte) 0);
        MemoryImage src = MemoryImage.source(now, List.of(Extent.data(0, 64 << 10), Extent.zero(64 << 10, 64 << 10),
                Extent.data(128 << 10, 128 << 10)));
        // dirty: [32K, 96K) (data, then zeros) and [192K, 200K); the rest is clean
        ListBitmap bitmap = new ListBitmap(List.of(new NbdExtent(0, 32 << 10, 0), new NbdExtent(32 << 10, 64 << 10, 1),
                new NbdExtent(96 << 10, 96 << 10, 0), new NbdExtent(192 << 10, 8 << 10, 1),
                new NbdExtent(200 << 10, 56 << 10, 0)));
        MemoryImage target = MemoryImage.sink(size, false);
        byte[] old = new byte[size];
        new SplittableRandom(6).nextBytes(old);
        target.write(0, java.nio.ByteBuffer.wrap(old.clone())).block(TIMEOUT);

        CopyResult r = Copy.from(new IncrementalSource(src, bitmap)).to(target).run().block(TIMEOUT);

        byte[] expected = old.clone();
        System.arraycopy(now, 32 << 10, expected, 32 << 10, 64 << 10);
        System.arraycopy(now, 192 << 10, expected, 192 << 10, 8 << 10);
        assertArrayEquals(expected, target.bytes());
        assertEquals((32 + 8) << 10, r.dataBytes());
        assertEquals(32 << 10, r.zeroedBytes());
        assertEquals(size - (72 << 10), r.skippedBytes());
    }

    /**
     * Random allocations and bitmaps, spans from smaller than a run to larger than the image: the
     * extents equal the dirty extents of {@link DirtyMerge} (the whole allocation walked), dirty data
     * as data, dirty zeros as zero, clean as skip, merged.
     */
    @Test
    void spansOfAnySizeGiveTheExtentsOfTheFullMerge() {
        SplittableRandom rnd = new SplittableRandom(17);
        for (int round = 0; round < 30; round++) {
            int size = 4096 * (1 + rnd.nextInt(300));
            List<Extent> allocation = new java.util.ArrayList<>();
            List<NbdExtent> runs = new java.util.ArrayList<>();
            for (long pos = 0; pos < size; ) {
                long len = Math.min(size - pos, 512L * (1 + rnd.nextInt(200)));
                allocation.add(rnd.nextBoolean() ? Extent.data(pos, len) : Extent.zero(pos, len));
                pos += len;
            }
            for (long pos = 0; pos < size; ) {
                long len = Math.min(size - pos, 4096L * (1 + rnd.nextInt(20)));
                runs.add(new NbdExtent(pos, len, rnd.nextInt(3) == 0 ? 1 : 0));
                pos += len;
            }
            MemoryImage src = MemoryImage.source(new byte[size], allocation);
            ListBitmap bitmap = new ListBitmap(runs);
            Flux<Extent> reference = DirtyMerge.extents(src, bitmap, 0, size)
                    .map(d -> !d.dirty() ? new Extent(d.start(), d.length(), false, true)
                            : d.zero() ? Extent.zero(d.start(), d.length()) : Extent.data(d.start(), d.length()));
            List<Extent> expected = io.extentflow.engine.extent.Runs.merge(reference).collectList().block(TIMEOUT);
            for (long span : new long[] {4096, 12288, 65536, 1 << 20, IncrementalSource.SPAN}) {
                assertEquals(expected, new IncrementalSource(src, bitmap, span).extents(0, size).collectList()
                        .block(TIMEOUT), "round " + round + ", span " + span);
            }
            long from = rnd.nextLong(size);
            long to = from + 1 + rnd.nextLong(size - from);
            List<Extent> window = new java.util.ArrayList<>();
            for (Extent e : expected) {
                if (e.end() > from && e.start() < to) {
                    window.add(e.clip(from, to));
                }
            }
            assertEquals(window, new IncrementalSource(src, bitmap, 8192).extents(from, to - from).collectList()
                    .block(TIMEOUT), "round " + round + ", window [" + from + ", " + to + ")");
        }
    }

    @Test
    void aSourceWithoutDirtyExtentsIsRefused() {
        MemoryImage src = MemoryImage.source(new byte[4096], List.of(Extent.data(0, 4096)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IncrementalSource.of(src));
        assertTrue(e.getMessage().startsWith(src.endpoint() + " reports no dirty extents"), e.getMessage());
    }
}
