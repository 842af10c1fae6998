package io.extentflow.sources.qcow2;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.extent.Runs;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.nbd.NbdExtent;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Flux;

/**
 * One persistent dirty bitmap of a qcow2 image, read without qemu: the bitmaps header extension
 * points to the bitmap directory, whose entry for the bitmap points to its bitmap table, whose
 * entries point to clusters of bitmap data (or say "all clean" or "all dirty" for a cluster's worth
 * without one). One bit per granule ({@code 1 << granularity_bits} bytes of guest data), the granules
 * of each byte from its least significant bit on, as qemu serializes them.
 *
 * <p>Refused as qemu refuses them, with one line naming the image and the bitmap: a bitmap marked
 * {@code in_use} (qemu did not save it cleanly: inconsistent), a bitmaps extension left stale by a
 * program that wrote the image without knowing it (autoclear bit 0 clear), unknown flags or types,
 * extra data, and structures outside the file or of the wrong size.
 *
 * <p>The bitmap table (one {@code long} per cluster of bitmap data: 8 bytes per 32 GiB of image with
 * 64 KiB clusters and granules) is held in memory; the bitmap data is read as {@link #map} needs it,
 * a bounded chunk at a time, on the file I/O scheduler.
 */
final class Qcow2Bitmap implements DirtyExtents {

    /** Largest directory read: qemu's limit is 64 MiB too. */
    static final long MAX_DIRECTORY_SIZE = 64L << 20;
    static final int FLAG_IN_USE = 1;
    static final int FLAG_AUTO = 1 << 1;
    private static final int FLAGS_KNOWN = FLAG_IN_USE | FLAG_AUTO;
    private static final int TYPE_DIRTY_TRACKING = 1;
    private static final int MIN_GRANULARITY_BITS = 9;
    private static final int MAX_GRANULARITY_BITS = 31;
    private static final long MAX_TABLE_SIZE = 0x8000000L;
    private static final long ENTRY_OFFSET_MASK = 0x00fffffffffffe00L;
    private static final long ENTRY_RESERVED_MASK = 0xff000000000001feL;
    private static final long ENTRY_ALL_ONES = 1L;
    private static final int ENTRY_HEADER = 24;
    /** Bits of bitmap data read per step of {@link #map}: 128 KiB of data. */
    private static final long CHUNK_BITS = 1L << 20;

    private final Qcow2Layer layer;
    private final String endpoint;
    private final String name;
    private final int granularityBits;
    private final long[] table;
    private final long size;
    private final long bitsPerCluster;

    private Qcow2Bitmap(Qcow2Layer layer, String name, int granularityBits, long[] table) {
        this.layer = layer;
        this.endpoint = "file:" + layer.path();
        this.name = name;
        this.granularityBits = granularityBits;
        this.table = table;
        this.size = layer.header().size();
        this.bitsPerCluster = layer.clusterSize() * 8L;
    }

    /**
     * The bitmap {@code name} of the image {@code layer} (empty: its only bitmap), checked and with its
     * table read. Blocking.
     *
     * @throws Qcow2FormatException one line naming the image and the bitmap (and, when there is no
     *                              such bitmap, the ones the image has)
     */
    static Qcow2Bitmap load(Qcow2Layer layer, String name) throws IOException {
        Path image = layer.path();
        Qcow2Header h = layer.header();
        if (h.bitmaps() == null || h.bitmaps().count() == 0) {
            throw new Qcow2FormatException(image, "has no dirty bitmap '" + name + "' (it has no bitmaps)");
        }
        if ((h.autoclear() & Qcow2Header.AUTOCLEAR_BITMAPS) == 0) {
            throw new Qcow2FormatException(image, "its dirty bitmaps are inconsistent: a program that does not "
                    + "know them wrote the image (autoclear bit 0 is clear), and qemu ignores them too");
        }
        List<Entry> entries = directory(layer);
        List<String> names = entries.stream().map(Entry::name).toList();
        Entry found = null;
        for (Entry e : entries) {
            if (e.name.equals(name) || name.isEmpty() && entries.size() == 1) {
                found = e;
            }
        }
        if (found == null) {
            throw new Qcow2FormatException(image, name.isEmpty()
                    ? "has " + names.size() + " dirty bitmaps (" + String.join(", ", names) + "): name one"
                    : "has no dirty bitmap '" + name + "' (it lists: " + String.join(", ", names) + ")");
        }
        return new Qcow2Bitmap(layer, found.name, found.granularityBits, readTable(layer, check(layer, found)));
    }

    /**
     * The image's bitmaps as {@code extentflow info} shows them, e.g. {@code daily (granularity 65536,
     * auto)} or {@code old (granularity 65536, in use: inconsistent)}; empty without bitmaps. Never
     * fails: a directory that cannot be read is one line saying why. Blocking.
     */
    static List<String> describe(Qcow2Layer layer) {
        Qcow2Header h = layer.header();
        if (h.bitmaps() == null || h.bitmaps().count() == 0) {
            return List.of();
        }
        if ((h.autoclear() & Qcow2Header.AUTOCLEAR_BITMAPS) == 0) {
            return List.of("(inconsistent: autoclear bit 0 is clear)");
        }
        try {
            List<String> out = new ArrayList<>();
            for (Entry e : directory(layer)) {
                out.add(e.name + " (granularity " + (1L << Math.min(e.granularityBits, 62))
                        + ((e.flags & FLAG_AUTO) != 0 ? ", auto" : "")
                        + ((e.flags & FLAG_IN_USE) != 0 ? ", in use: inconsistent" : "") + ")");
            }
            return List.copyOf(out);
        } catch (IOException e) {
            return List.of("(unreadable: " + e.getMessage() + ")");
        }
    }

    /** The bitmap directory's entries, checked to lie inside the directory. Blocking. */
    private static List<Entry> directory(Qcow2Layer layer) throws IOException {
        Qcow2Header.BitmapsExtension ext = layer.header().bitmaps();
        long fileSize = layer.fileSize();
        long dirSize = ext.directorySize();
        long dirOffset = ext.directoryOffset();
        if (dirSize <= 0 || dirSize > MAX_DIRECTORY_SIZE || dirOffset <= 0
                || (dirOffset & (layer.clusterSize() - 1)) != 0 || dirOffset > fileSize - dirSize) {
            throw layer.corrupt("bitmap directory of " + Long.toUnsignedString(dirSize) + " bytes at offset "
                    + Long.toUnsignedString(dirOffset) + " is not a cluster-aligned range of the file ("
                    + fileSize + " bytes)");
        }
        ByteBuffer dir = ByteBuffer.allocate((int) dirSize);
        layer.readHost(dirOffset, dir);
        List<Entry> entries = new ArrayList<>();
        int pos = 0;
        while (pos < dirSize) {
            if (pos + ENTRY_HEADER > dirSize) {
                throw layer.corrupt("bitmap directory entry at byte " + pos + " runs past the directory");
            }
            if (entries.size() >= ext.count()) {
                throw layer.corrupt("bitmap directory holds more than the " + ext.count()
                        + " bitmaps of the header extension");
            }
            Entry e = new Entry(dir.getLong(pos), Integer.toUnsignedLong(dir.getInt(pos + 8)), dir.getInt(pos + 12),
                    dir.get(pos + 16) & 0xff, dir.get(pos + 17) & 0xff, dir.getShort(pos + 18) & 0xffff,
                    Integer.toUnsignedLong(dir.getInt(pos + 20)), null);
            long entrySize = (ENTRY_HEADER + e.extraSize + e.nameSize + 7) & ~7L;
            if (pos + entrySize > dirSize) {
                throw layer.corrupt("bitmap directory entry at byte " + pos + " runs past the directory");
            }
            entries.add(e.named(new String(dir.array(), (int) (pos + ENTRY_HEADER + e.extraSize), e.nameSize,
                    StandardCharsets.UTF_8)));
            pos += (int) entrySize;
        }
        return entries;
    }

    /** A directory entry's fields. */
    private record Entry(long tableOffset, long tableSize, int flags, int type, int granularityBits, int nameSize,
                         long extraSize, String name) {
        Entry named(String value) {
            return new Entry(tableOffset, tableSize, flags, type, granularityBits, nameSize, extraSize, value);
        }
    }

    /** Refuses what qemu refuses to use; returns the entry when it may be read. */
    private static Entry check(Qcow2Layer layer, Entry e) throws IOException {
        Path image = layer.path();
        String what = "dirty bitmap '" + e.name + "'";
        if ((e.flags & FLAG_IN_USE) != 0) {
            throw new Qcow2FormatException(image, what + " is inconsistent: it is marked in use (flag in_use), so "
                    + "it was not saved cleanly and may miss changes; qemu refuses it too (remove it with "
                    + "'qemu-img bitmap --remove' and take a full copy)");
        }
        if ((e.flags & ~FLAGS_KNOWN) != 0) {
            throw new Qcow2FormatException(image, what + " has unknown flags 0x"
                    + Integer.toHexString(e.flags & ~FLAGS_KNOWN));
        }
        if (e.type != TYPE_DIRTY_TRACKING) {
            throw new Qcow2FormatException(image, what + " has type " + e.type + ", not a dirty tracking bitmap (1)");
        }
        if (e.extraSize != 0) {
            throw new Qcow2FormatException(image, what + " has " + e.extraSize + " bytes of extra data, "
                    + "which qemu does not support either");
        }
        if (e.granularityBits < MIN_GRANULARITY_BITS || e.granularityBits > MAX_GRANULARITY_BITS) {
            throw layer.corrupt(what + " has granularity_bits " + e.granularityBits + ", outside 9..31");
        }
        long size = layer.header().size();
        long bits = (size >>> e.granularityBits) + ((size & ((1L << e.granularityBits) - 1)) != 0 ? 1 : 0);
        long bytes = (bits + 7) / 8;
        long clusters = (bytes + layer.clusterSize() - 1) / layer.clusterSize();
        if (e.tableSize != clusters || e.tableSize > MAX_TABLE_SIZE) {
            throw layer.corrupt(what + " has a bitmap table of " + e.tableSize + " entries where the image size "
                    + size + " needs " + clusters);
        }
        if (e.tableOffset <= 0 || (e.tableOffset & (layer.clusterSize() - 1)) != 0
                || e.tableOffset > layer.fileSize() - e.tableSize * 8) {
            throw layer.corrupt(what + " has its bitmap table at offset " + Long.toUnsignedString(e.tableOffset)
                    + ", not a cluster-aligned range of the file");
        }
        return e;
    }

    private static long[] readTable(Qcow2Layer layer, Entry e) throws IOException {
        ByteBuffer raw = ByteBuffer.allocate((int) (e.tableSize * 8));
        layer.readHost(e.tableOffset, raw);
        long[] table = new long[(int) e.tableSize];
        raw.flip().asLongBuffer().get(table);
        for (int i = 0; i < table.length; i++) {
            long entry = table[i];
            long offset = entry & ENTRY_OFFSET_MASK;
            boolean bad = (entry & ENTRY_RESERVED_MASK) != 0
                    || offset != 0 && ((entry & ENTRY_ALL_ONES) != 0 || (offset & (layer.clusterSize() - 1)) != 0
                            || offset > layer.fileSize() - layer.clusterSize());
            if (bad) {
                throw layer.corrupt("dirty bitmap '" + e.name + "' has a bad bitmap table entry " + i + " (0x"
                        + Long.toHexString(entry) + ")");
            }
        }
        return table;
    }

    @Override
    public String bitmap() {
        return name;
    }

    /**
     * The bitmap over {@code [start, start + length)} in {@code qemu:dirty-bitmap}'s values (1 dirty,
     * 0 clean), adjacent equal values merged; read {@link #CHUNK_BITS} bits at a time.
     */
    @Override
    public Flux<NbdExtent> map(long start, long length) {
        if (!ImageIoException.fits(start, length, size)) {
            return Flux.error(ImageIoException.outside("dirty bitmap " + name, endpoint, start, length, size));
        }
        if (length == 0) {
            return Flux.empty();
        }
        long end = start + length;
        long firstBit = start >>> granularityBits;
        long endBit = ((end - 1) >>> granularityBits) + 1;
        Flux<NbdExtent> runs = Flux.<long[], Long>generate(() -> firstBit, (bit, sink) -> {
                    if (bit >= endBit) {
                        sink.complete();
                    } else {
                        sink.next(new long[] {bit, Math.min(endBit, bit + CHUNK_BITS)});
                    }
                    return bit + CHUNK_BITS;
                })
                .concatMap(c -> BlockingIo.call(() -> runs(c[0], c[1], start, end))
                        .onErrorMap(e -> ImageIoException.wrap("dirty bitmap " + name, endpoint,
                                c[0] << granularityBits, (c[1] - c[0]) << granularityBits, e)), 1)
                .concatMapIterable(list -> list);
        return Runs.merge(runs);
    }

    /** The runs of bits {@code [fromBit, toBit)} as byte ranges clipped to {@code [start, end)}. Blocking. */
    private List<NbdExtent> runs(long fromBit, long toBit, long start, long end) throws IOException {
        List<NbdExtent> out = new ArrayList<>();
        long bit = fromBit;
        while (bit < toBit) {
            int index = (int) (bit / bitsPerCluster);
            long to = Math.min(toBit, (index + 1) * bitsPerCluster);
            long entry = table[index];
            long offset = entry & ENTRY_OFFSET_MASK;
            if (offset == 0) {
                add(out, bit, to, (entry & ENTRY_ALL_ONES) != 0, start, end);
            } else {
                long firstByte = (bit % bitsPerCluster) / 8;
                long lastByte = ((to - 1) % bitsPerCluster) / 8;
                ByteBuffer data = ByteBuffer.allocate((int) (lastByte - firstByte + 1));
                layer.readHost(offset + firstByte, data);
                for (long b = bit; b < to; ) {
                    long rel = b % bitsPerCluster;
                    int value = data.get((int) (rel / 8 - firstByte)) & 0xff;
                    if (rel % 8 == 0 && (value == 0 || value == 0xff) && b + 8 <= to) {
                        add(out, b, b + 8, value != 0, start, end); // a whole byte alike
                        b += 8;
                    } else {
                        add(out, b, b + 1, ((value >>> (rel % 8)) & 1) != 0, start, end);
                        b++;
                    }
                }
            }
            bit = to;
        }
        return out;
    }

    /** Appends the bits {@code [from, to)} as one range of guest bytes, clipped to {@code [start, end)}. */
    private void add(List<NbdExtent> out, long from, long to, boolean dirty, long start, long end) {
        long s = Math.max(start, from << granularityBits);
        long e = Math.min(end, to >= (Long.MAX_VALUE >>> granularityBits) ? end : to << granularityBits);
        if (e > s) {
            Runs.append(out, new NbdExtent(s, e - s, dirty ? NbdProtocol.STATE_DIRTY : 0));
        }
    }
}
