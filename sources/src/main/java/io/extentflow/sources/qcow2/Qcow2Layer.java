package io.extentflow.sources.qcow2;

import io.extentflow.engine.Extent;
import io.extentflow.engine.extent.Runs;
import io.extentflow.engine.io.FileProbe;
import io.extentflow.engine.io.OpenFile;
import io.extentflow.engine.qcow2.Qcow2Format;
import io.extentflow.sources.file.RawFileSource;
import io.extentflow.sources.qcow2.LayerRun.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One qcow2 file: its header, its L1 table (in memory) and a bounded cache of L2 tables. Answers
 * the status of guest ranges from its own metadata only; the chain decides what unallocated ranges
 * read as. Every offset taken from the file is checked against the file size.
 */
final class Qcow2Layer implements Layer {

    /** Largest single read of compressed data into a heap array (see {@link #readSpan}). */
    private static final int SPAN_READ = 256 << 10;


    /** L1 and standard L2 entries: bits 9..55 hold a host cluster offset. */
    private static final long OFFSET_MASK = Qcow2Format.OFFSET_MASK;
    private static final long COMPRESSED_FLAG = Qcow2Format.COMPRESSED;
    private static final long ZERO_FLAG = Qcow2Format.ZERO_FLAG;
    /** Extended L2 entries split a cluster into 32 subclusters. */
    private static final int SUBCLUSTER_BITS = 5;

    private final Path path;
    /** The file: its channel for blocking reads, its descriptor for {@link #readCached}. */
    private final OpenFile file;
    private final FileChannel channel;
    private final long fileSize;
    private final Qcow2Header header;
    private final long[] l1;
    private final L2Cache l2Cache;
    private final int clusterBits;
    private final int clusterSize;
    private final boolean extendedL2;
    /** log2 of the guest bytes one L2 table covers. */
    private final int l2Shift;
    private final int l2Entries;
    private final int subclusterBits;
    private final ClusterDecompressor decompressor;
    /** Compressed descriptor fields, as qemu derives them from the cluster size. */
    private final int csizeShift;
    private final long csizeMask;
    /** The file itself seen as raw, to find holes under data clusters; null unless metadata-preallocated. */
    private final RawFileSource hostFile;

    private Qcow2Layer(Path path, OpenFile file, long fileSize, Qcow2Header header, long[] l1, long cacheBytes,
                       RawFileSource hostFile) {
        this.path = path;
        this.file = file;
        this.channel = file.channel();
        this.fileSize = fileSize;
        this.header = header;
        this.l1 = l1;
        this.clusterBits = header.clusterBits();
        this.clusterSize = header.clusterSize();
        this.extendedL2 = header.extendedL2();
        this.l2Entries = clusterSize / (extendedL2 ? 16 : 8);
        this.l2Shift = clusterBits + Integer.numberOfTrailingZeros(l2Entries);
        this.subclusterBits = extendedL2 ? clusterBits - SUBCLUSTER_BITS : clusterBits;
        this.l2Cache = new L2Cache(cacheBytes, clusterSize);
        this.decompressor = ClusterDecompressor.of(header.compressionType());
        this.csizeShift = 62 - (clusterBits - 8);
        this.csizeMask = (1L << (clusterBits - 8)) - 1;
        this.hostFile = hostFile;
    }

    /** Opens and validates {@code path}. Blocking. */
    static Qcow2Layer open(Path path) throws IOException {
        FileProbe.requireReadable(path);
        OpenFile file = OpenFile.readOnly(path);
        FileChannel ch = file.channel();
        try {
            long fileSize = ch.size();
            Qcow2Header header = Qcow2Header.read(path, ch, fileSize);
            long[] l1 = readL1(ch, header);
            if (header.compressionType() != 0) {
                ClusterDecompressor.of(header.compressionType()).prepare();
            }
            RawFileSource hostFile = MetadataPreallocation.detect(path, ch, fileSize, header)
                    ? RawFileSource.openNow(path, RawFileSource.DEFAULT_WINDOW) : null;
            return new Qcow2Layer(path, file, fileSize, header, l1, L2Cache.DEFAULT_BYTES, hostFile);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    Qcow2Header header() {
        return header;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public String format() {
        return "qcow2";
    }

    @Override
    public long statusSize() {
        return header.size();
    }

    @Override
    public long granularity() {
        return 1L << subclusterBits;
    }

    int clusterSize() {
        return clusterSize;
    }

    /** Guest bytes one L2 table maps: a lookup within them needs at most one table. */
    @Override
    public long tableReach() {
        return 1L << l2Shift;
    }

    ClusterDecompressor decompressor() {
        return decompressor;
    }

    @Override
    public void runs(long from, long to, boolean mayBlock, List<LayerRun> out) throws IOException {
        int first = out.size();
        tableRuns(from, to, mayBlock, out);
        if (hostFile != null) {
            findHostHoles(out, first, mayBlock);
        }
    }

    /**
     * The runs as the L2 tables give them: a data cluster whose host range is a hole in the file
     * stays data, and reads as the zeros the file holds there. Asking the file where its holes are
     * ({@code lseek}) may wait for the disk.
     */
    @Override
    public void readableRuns(long from, long to, List<LayerRun> out) throws IOException {
        tableRuns(from, to, false, out);
    }

    /** The runs of {@code [from, to)} from the L1 and L2 tables alone. */
    private void tableRuns(long from, long to, boolean mayBlock, List<LayerRun> out) throws IOException {
        long pos = from;
        while (pos < to) {
            int l1Index = (int) (pos >>> l2Shift);
            long spanEnd = Math.min(to, ((long) l1Index + 1) << l2Shift);
            long l2Offset = l1[l1Index] & OFFSET_MASK;
            if (l2Offset == 0) {
                // a whole unallocated L2 range in one step
                Runs.append(out, new LayerRun(pos, spanEnd - pos, Kind.UNALLOCATED, -1, 0));
            } else {
                long[] table = l2Table(l2Offset, mayBlock);
                while (pos < spanEnd) {
                    pos = cluster(table, pos, spanEnd, out);
                }
            }
            pos = spanEnd;
        }
    }

    /** Splits the data runs from {@code first} on where their host ranges are holes in the file. */
    private void findHostHoles(List<LayerRun> out, int first, boolean mayBlock) throws IOException {
        List<LayerRun> mine = new ArrayList<>(out.subList(first, out.size()));
        out.subList(first, out.size()).clear();
        for (LayerRun r : mine) {
            if (r.kind() != Kind.DATA) {
                Runs.append(out, r);
                continue;
            }
            if (!mayBlock) {
                throw WouldBlock.INSTANCE;
            }
            for (Extent e : hostFile.scan(r.host(), r.host() + r.length())) {
                Runs.append(out, new LayerRun(r.start() + (e.start() - r.host()), e.length(),
                        e.isData() ? Kind.DATA : Kind.SPARSE_DATA, e.start(), 0));
            }
        }
    }

    /** Appends the runs of the cluster holding {@code pos}, up to {@code limit}; returns where it stopped. */
    private long cluster(long[] table, long pos, long limit, List<LayerRun> out) throws IOException {
        int index = (int) ((pos >>> clusterBits) & (l2Entries - 1));
        long clusterStart = pos & -(long) clusterSize;
        long end = Math.min(limit, clusterStart + clusterSize);
        long entry = extendedL2 ? table[index * 2] : table[index];
        if ((entry & COMPRESSED_FLAG) != 0) {
            long descriptor = entry & ~(3L << 62);
            long host = descriptor & ((1L << csizeShift) - 1);
            int sectors = (int) ((descriptor >>> csizeShift) & csizeMask) + 1;
            int length = sectors * 512 - (int) (host & 511);
            if (host == 0 || host >= fileSize) {
                throw corrupt("compressed cluster for guest offset " + clusterStart + " at host offset " + host
                        + " is past the end of the file (" + fileSize + " bytes)");
            }
            out.add(new LayerRun(pos, end - pos, Kind.COMPRESSED, host, length));
            return end;
        }
        long host = entry & OFFSET_MASK;
        if ((host & (clusterSize - 1)) != 0) {
            throw corrupt("cluster for guest offset " + clusterStart + " has unaligned host offset " + host);
        }
        if (!extendedL2) {
            Kind kind = (entry & ZERO_FLAG) != 0 ? Kind.ZERO : host == 0 ? Kind.UNALLOCATED : Kind.DATA;
            if (kind == Kind.DATA) {
                checkDataCluster(host, clusterStart);
            }
            Runs.append(out, new LayerRun(pos, end - pos, kind, host == 0 ? -1 : host + (pos - clusterStart), 0));
            return end;
        }
        long bitmap = table[index * 2 + 1];
        int allocated = (int) bitmap;
        int zero = (int) (bitmap >>> 32);
        if ((allocated & zero) != 0) {
            throw corrupt("subcluster bitmap of guest offset " + clusterStart + " marks subclusters both allocated and zero");
        }
        if (host == 0 && allocated != 0) {
            throw corrupt("subclusters of guest offset " + clusterStart + " are allocated in an unallocated cluster");
        }
        if (allocated != 0) {
            checkDataCluster(host, clusterStart);
        }
        long p = pos;
        while (p < end) {
            int sc = (int) ((p - clusterStart) >>> subclusterBits);
            long scEnd = Math.min(end, clusterStart + ((long) (sc + 1) << subclusterBits));
            Kind kind = (zero >>> sc & 1) != 0 ? Kind.ZERO : (allocated >>> sc & 1) != 0 ? Kind.DATA : Kind.UNALLOCATED;
            Runs.append(out, new LayerRun(p, scEnd - p, kind, host == 0 ? -1 : host + (p - clusterStart), 0));
            p = scEnd;
        }
        return end;
    }

    private void checkDataCluster(long host, long guest) throws Qcow2FormatException {
        if (host >= fileSize) {
            throw corrupt("data cluster for guest offset " + guest + " at host offset " + host
                    + " is past the end of the file (" + fileSize + " bytes)");
        }
    }

    private long[] l2Table(long offset, boolean mayBlock) throws IOException {
        long[] table = l2Cache.get(offset);
        if (table != null) {
            return table;
        }
        if (!mayBlock) {
            throw WouldBlock.INSTANCE;
        }
        if ((offset & (clusterSize - 1)) != 0) {
            throw corrupt("L2 table offset " + offset + " is not cluster aligned");
        }
        if (offset > fileSize - clusterSize) {
            throw corrupt("L2 table at offset " + offset + " is past the end of the file (" + fileSize + " bytes)");
        }
        ByteBuffer raw = ByteBuffer.allocate(clusterSize);
        Qcow2Header.readFully(channel, raw, offset);
        if (raw.hasRemaining()) {
            throw corrupt("L2 table at offset " + offset + " is cut short by the end of the file");
        }
        table = new long[clusterSize / 8];
        raw.flip().asLongBuffer().get(table);
        l2Cache.put(offset, table);
        return table;
    }

    /**
     * The L1 table, read in pieces: a table may take 32 MiB, and a copy of it in one buffer beside the
     * array doubled that in a heap the launcher sizes for bookkeeping (docs/architecture.md, "Memory").
     */
    private static long[] readL1(FileChannel ch, Qcow2Header header) throws IOException {
        long[] l1 = new long[header.l1Size()];
        ByteBuffer piece = ByteBuffer.allocate((int) Math.min(SPAN_READ, (long) l1.length * 8));
        for (int at = 0; at < l1.length; ) {
            int n = Math.min(piece.capacity() / 8, l1.length - at);
            piece.clear().limit(n * 8);
            Qcow2Header.readFully(ch, piece, header.l1TableOffset() + (long) at * 8);
            piece.flip().asLongBuffer().get(l1, at, n);
            at += n;
        }
        return l1;
    }

    @Override
    public void readHost(long host, ByteBuffer dst) throws IOException {
        long at = host;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) {
                // past the end of the file reads as zeros, as in qemu
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            at += n;
        }
    }

    @Override
    public int readCached(long host, ByteBuffer dst) {
        return Layer.readCachedFile(file::readCached, fileSize, host, dst);
    }

    /**
     * Reads the file bytes {@code [from, to)}, clipped to the end of the file ({@link #spanLength}
     * of them), into {@code reuse} when it is long enough, else into a new array, followed by one
     * zero byte (raw inflate may ask for one byte past the stream). Blocking.
     *
     * @return the array read into
     */
    byte[] readSpan(long from, long to, byte[] reuse) throws IOException {
        int n = spanLength(from, to);
        byte[] buf = reuse != null && reuse.length > n ? reuse : new byte[n + 1];
        // In pieces: a read into a heap array goes through a temporary native buffer of the read's
        // length, which the JDK then keeps for the thread (perf/README.md, "Memory").
        for (int at = 0; at < n; at += SPAN_READ) {
            Qcow2Header.readFully(channel, ByteBuffer.wrap(buf, at, Math.min(SPAN_READ, n - at)), from + at);
        }
        buf[n] = 0;
        return buf;
    }

    /** How many bytes {@link #readSpan} reads for {@code [from, to)}. */
    int spanLength(long from, long to) {
        return (int) (Math.min(to, fileSize) - from);
    }

    /** The file's size when it was opened. */
    long fileSize() {
        return fileSize;
    }

    Qcow2FormatException corrupt(String problem) {
        return new Qcow2FormatException(path, "corrupt image: " + problem);
    }

    @Override
    public void close() {
        if (hostFile != null) {
            hostFile.close();
        }
        file.close();
    }
}
