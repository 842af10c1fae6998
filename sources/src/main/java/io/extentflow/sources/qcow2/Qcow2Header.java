package io.extentflow.sources.qcow2;

import static io.extentflow.engine.qcow2.Qcow2Format.*;

import io.extentflow.engine.qcow2.Qcow2Format;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The parsed, validated header of a qcow2 file (versions 2 and 3) with the header extensions a
 * reader needs. {@link #read} refuses what this reader must not read (encryption, external data
 * files, unknown incompatible features) and any field that points outside the file.
 *
 * @param version           2 or 3
 * @param clusterBits       log2 of the cluster size, 9..21
 * @param size              virtual size in bytes
 * @param l1Size            number of L1 entries
 * @param l1TableOffset     host offset of the L1 table
 * @param refcountTableOffset   host offset of the refcount table
 * @param refcountTableClusters clusters of the refcount table
 * @param incompatible      incompatible feature bits (v3)
 * @param compatible        compatible feature bits (v3)
 * @param refcountOrder     log2 of the refcount width in bits
 * @param compressionType   0 deflate ("zlib"), 1 zstd
 * @param backingFile       backing file name as stored, or null
 * @param backingFormat     backing format from the header extension, or null
 * @param snapshots         number of internal snapshots (ignored: the active L1 is read)
 * @param autoclear         autoclear feature bits (v3; bit 0: the bitmaps extension is consistent)
 * @param bitmaps           the bitmaps header extension, or null when the image has none
 */
public record Qcow2Header(int version, int clusterBits, long size, int l1Size, long l1TableOffset,
                          long refcountTableOffset, int refcountTableClusters,
                          long incompatible, long compatible, int refcountOrder, int compressionType,
                          String backingFile, String backingFormat, int snapshots, long autoclear,
                          BitmapsExtension bitmaps) {

    /**
     * The bitmaps header extension ({@code qemu-img bitmap --add} writes it): where the bitmap
     * directory is.
     *
     * @param count           {@code nb_bitmaps}
     * @param directorySize   bytes of the bitmap directory
     * @param directoryOffset host offset of the bitmap directory
     */
    public record BitmapsExtension(long count, long directorySize, long directoryOffset) {
    }

    /** Autoclear bit 0: the bitmaps extension is consistent (cleared by programs that do not know it). */
    static final long AUTOCLEAR_BITMAPS = 1L;

    /** {@code QFI\xfb}. */
    public static final int MAGIC = Qcow2Format.MAGIC;

    private static final long INCOMPAT_KNOWN = (1L << 5) - 1;
    static final long COMPAT_LAZY_REFCOUNTS = 1L;

    /** Bytes per cluster. */
    public int clusterSize() {
        return 1 << clusterBits;
    }

    /** True with 128-bit L2 entries and 32 subclusters per cluster. */
    public boolean extendedL2() {
        return (incompatible & INCOMPAT_EXTL2) != 0;
    }

    public boolean dirty() {
        return (incompatible & INCOMPAT_DIRTY) != 0;
    }

    public boolean corrupt() {
        return (incompatible & INCOMPAT_CORRUPT) != 0;
    }

    /** {@code zlib} or {@code zstd}, as qemu-img info names them. */
    public String compressionName() {
        return compressionType == 1 ? "zstd" : "zlib";
    }

    /** True if the file starts with the qcow2 magic. Blocking. */
    public static boolean hasMagic(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4);
        readFully(ch, b, 0);
        return b.position() == 4 && b.getInt(0) == MAGIC;
    }

    /**
     * Reads and validates the header of {@code image}. Blocking.
     *
     * @throws Qcow2FormatException for corrupt or refused images
     */
    public static Qcow2Header read(Path image, FileChannel ch, long fileSize) throws IOException {
        if (fileSize < V2_HEADER_LENGTH) {
            throw new Qcow2FormatException(image, "file is too short for a qcow2 header (" + fileSize + " bytes)");
        }
        ByteBuffer first = ByteBuffer.allocate(V2_HEADER_LENGTH);
        readFully(ch, first, 0);
        if (first.getInt(0) != MAGIC) {
            throw new Qcow2FormatException(image, "not a qcow2 image (bad magic)");
        }
        int version = first.getInt(4);
        if (version != 2 && version != 3) {
            throw new Qcow2FormatException(image, "qcow2 version " + version + " is not supported (only 2 and 3)");
        }
        int clusterBits = first.getInt(20);
        if (clusterBits < 9 || clusterBits > 21) {
            throw new Qcow2FormatException(image, "cluster_bits " + clusterBits + " is out of range 9..21");
        }
        int clusterSize = 1 << clusterBits;
        // everything a reader needs (header, extensions, backing name) lives in the first cluster
        ByteBuffer h = ByteBuffer.allocate((int) Math.min(clusterSize, fileSize));
        readFully(ch, h, 0);
        int headerBytes = h.position();

        int crypt = h.getInt(32);
        if (crypt == 1) {
            throw new Qcow2FormatException(image, "image is encrypted (AES, crypt_method 1); encryption is not supported");
        }
        if (crypt == 2) {
            throw new Qcow2FormatException(image, "image is encrypted (LUKS, crypt_method 2); encryption is not supported");
        }
        if (crypt != 0) {
            throw new Qcow2FormatException(image, "unknown encryption method " + crypt + "; encryption is not supported");
        }

        long incompatible = 0;
        long compatible = 0;
        long autoclear = 0;
        int refcountOrder = 4;
        int headerLength = V2_HEADER_LENGTH;
        int compressionType = 0;
        if (version == 3) {
            if (headerBytes < V3_HEADER_LENGTH) {
                throw new Qcow2FormatException(image, "file is too short for a version 3 header");
            }
            incompatible = h.getLong(72);
            compatible = h.getLong(80);
            autoclear = h.getLong(HEADER_AUTOCLEAR_FEATURES);
            refcountOrder = h.getInt(96);
            headerLength = h.getInt(100);
            if (headerLength < V3_HEADER_LENGTH || headerLength > headerBytes || headerLength % 8 != 0) {
                throw new Qcow2FormatException(image, "invalid header_length " + Integer.toUnsignedString(headerLength));
            }
            if (headerLength > V3_HEADER_LENGTH) {
                compressionType = h.get(104) & 0xff;
            }
        }
        int backingNameSize = h.getInt(16);
        long backingNameOffset = h.getLong(8);
        long extensionsEnd = backingNameOffset != 0 ? Math.min(backingNameOffset, headerBytes) : headerBytes;
        Extensions ext = readExtensions(image, h, headerLength, extensionsEnd);

        long unknown = incompatible & ~INCOMPAT_KNOWN;
        if (unknown != 0) {
            throw new Qcow2FormatException(image, "unsupported incompatible feature " + describeBits(unknown, ext.featureNames));
        }
        if ((incompatible & INCOMPAT_DATA_FILE) != 0) {
            throw new Qcow2FormatException(image, "image uses an external data file"
                    + (ext.dataFile != null ? " (" + ext.dataFile + ")" : "") + "; external data files are not supported");
        }
        if ((incompatible & INCOMPAT_COMPRESSION) != 0 && compressionType == 0) {
            throw new Qcow2FormatException(image, "compression type bit is set but compression_type is zlib");
        }
        if ((incompatible & INCOMPAT_COMPRESSION) == 0 && compressionType != 0) {
            throw new Qcow2FormatException(image, "compression_type " + compressionType + " is set without its incompatible bit");
        }
        if (compressionType > 1) {
            throw new Qcow2FormatException(image, "unknown compression type " + compressionType);
        }
        if ((incompatible & INCOMPAT_EXTL2) != 0 && clusterBits < 14) {
            throw new Qcow2FormatException(image, "extended L2 entries need clusters of at least 16 KiB, cluster_bits is " + clusterBits);
        }

        long size = h.getLong(24);
        if (size < 0) {
            throw new Qcow2FormatException(image, "virtual size " + Long.toUnsignedString(size) + " is too large");
        }
        long l1Size = Integer.toUnsignedLong(h.getInt(36));
        long l1Offset = h.getLong(40);
        int entryShift = (incompatible & INCOMPAT_EXTL2) != 0 ? 4 : 3;
        int l1Shift = clusterBits + clusterBits - entryShift; // guest bytes covered by one L1 entry, log2
        long needed = (size >>> l1Shift) + ((size & ((1L << l1Shift) - 1)) != 0 ? 1 : 0);
        if (l1Size < needed) {
            throw new Qcow2FormatException(image, "L1 table has " + l1Size + " entries, too few for the virtual size "
                    + size + " (needs " + needed + ")");
        }
        if (l1Size * 8 > MAX_L1_BYTES) {
            throw new Qcow2FormatException(image, "L1 table of " + l1Size + " entries is too large");
        }
        if (l1Size > 0) {
            if (l1Offset <= 0 || (l1Offset & (clusterSize - 1)) != 0) {
                throw new Qcow2FormatException(image, "L1 table offset " + Long.toUnsignedString(l1Offset)
                        + " is not cluster aligned");
            }
            if (l1Offset > fileSize || l1Size * 8 > fileSize - l1Offset) {
                throw new Qcow2FormatException(image, "L1 table at offset " + l1Offset + " (" + l1Size * 8
                        + " bytes) is past the end of the file (" + fileSize + " bytes)");
            }
        }

        String backingFile = null;
        if (backingNameOffset != 0) {
            if (backingNameSize < 0 || backingNameSize > MAX_BACKING_NAME) {
                throw new Qcow2FormatException(image, "backing file name is too long (" + Integer.toUnsignedString(backingNameSize) + " bytes)");
            }
            if (backingNameOffset < 0 || backingNameOffset + backingNameSize > headerBytes) {
                throw new Qcow2FormatException(image, "backing file name at offset " + Long.toUnsignedString(backingNameOffset)
                        + " is outside the header cluster");
            }
            if (backingNameSize > 0) {
                backingFile = new String(h.array(), (int) backingNameOffset, backingNameSize, StandardCharsets.UTF_8);
            }
        }
        return new Qcow2Header(version, clusterBits, size, (int) l1Size, l1Offset, h.getLong(48), h.getInt(56), incompatible, compatible,
                refcountOrder, compressionType, backingFile, ext.backingFormat, h.getInt(60), autoclear, ext.bitmaps);
    }

    private record Extensions(String backingFormat, String dataFile, Map<Integer, String> featureNames,
                              BitmapsExtension bitmaps) {
    }

    /** Walks the header extensions in {@code [start, end)}; unknown types are skipped. */
    private static Extensions readExtensions(Path image, ByteBuffer h, int start, long end) throws Qcow2FormatException {
        String backingFormat = null;
        String dataFile = null;
        Map<Integer, String> names = new TreeMap<>();
        BitmapsExtension bitmaps = null;
        long pos = start;
        while (pos + 8 <= end) {
            int type = h.getInt((int) pos);
            long len = Integer.toUnsignedLong(h.getInt((int) pos + 4));
            pos += 8;
            if (type == EXT_END) {
                break;
            }
            if (len > end - pos) {
                throw new Qcow2FormatException(image, "header extension 0x" + Integer.toHexString(type)
                        + " of " + len + " bytes runs past the header");
            }
            int p = (int) pos;
            switch (type) {
                case EXT_BACKING_FORMAT -> backingFormat = string(h, p, (int) len);
                case EXT_DATA_FILE -> dataFile = string(h, p, (int) len);
                case EXT_FEATURE_NAMES -> {
                    for (int e = 0; e + 48 <= len; e += 48) {
                        if (h.get(p + e) == 0) { // incompatible features only: those are the ones we name
                            names.put(h.get(p + e + 1) & 0xff, string(h, p + e + 2, 46));
                        }
                    }
                }
                case EXT_BITMAPS -> {
                    if (len < 24) {
                        throw new Qcow2FormatException(image, "bitmaps header extension is " + len
                                + " bytes, shorter than its 24");
                    }
                    bitmaps = new BitmapsExtension(Integer.toUnsignedLong(h.getInt(p)), h.getLong(p + 8),
                            h.getLong(p + 16));
                }
                default -> {
                    // unknown or irrelevant to a reader (encryption pointer): skip
                }
            }
            pos += (len + 7) & ~7L;
        }
        return new Extensions(backingFormat, dataFile, names, bitmaps);
    }

    /** A string field, ending at its first NUL (padding may look like one). */
    private static String string(ByteBuffer h, int pos, int len) {
        int n = 0;
        while (n < len && h.get(pos + n) != 0) {
            n++;
        }
        return new String(h.array(), pos, n, StandardCharsets.UTF_8);
    }

    private static String describeBits(long bits, Map<Integer, String> names) {
        List<String> parts = new ArrayList<>();
        for (int bit = 0; bit < 64; bit++) {
            if ((bits & (1L << bit)) != 0) {
                String name = names.get(bit);
                parts.add("bit " + bit + (name != null && !name.isEmpty() ? " (" + name + ")" : ""));
            }
        }
        return String.join(", ", parts);
    }

    /** Reads until {@code b} is full or the file ends. */
    static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        long at = pos;
        while (b.hasRemaining()) {
            int n = ch.read(b, at);
            if (n < 0) {
                return;
            }
            at += n;
        }
    }
}
