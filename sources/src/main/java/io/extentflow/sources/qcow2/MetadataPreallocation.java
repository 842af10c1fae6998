package io.extentflow.sources.qcow2;

import io.extentflow.engine.io.FileStat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * qemu's test for "this image was created with preallocation=metadata": more clusters are in use
 * (refcount above zero) than the file has blocks allocated, by a ninth or more. For such images qemu
 * asks the file system where the data clusters' host ranges are holes, and {@code qemu-img map}
 * reports those parts as zero; images written by {@code qemu-img convert} from sparse data often
 * pass the test too. We follow it so our map equals qemu's and our extents skip those zeros.
 *
 * <p>Refcounts are advisory for a reader, so any problem with them (a table past the end of the
 * file, an odd width) makes the answer "no", as in qemu, never an error.
 */
final class MetadataPreallocation {

    private static final long REFCOUNT_TABLE_OFFSET_MASK = 0xFFFF_FFFF_FFFF_FE00L;

    private MetadataPreallocation() {
    }

    /** True if qemu would take the image as metadata-preallocated. Blocking. */
    static boolean detect(Path path, FileChannel ch, long fileSize, Qcow2Header h) {
        try {
            long realAllocation = FileStat.allocatedBytes(path);
            long clusterSize = h.clusterSize();
            long realClusters = realAllocation / clusterSize;
            long threshold = Math.max(realClusters * 10 / 9, realClusters + 2);
            long fileLength = (fileSize + 511) & ~511L;
            long endCluster = (fileLength + clusterSize - 1) / clusterSize;
            Refcounts refcounts = new Refcounts(ch, fileSize, h);
            long inUse = 0;
            for (long i = 0; i < endCluster && inUse < threshold; i++) {
                if (refcounts.inUse(i)) {
                    inUse++;
                }
            }
            return inUse >= threshold;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Reads refcounts one block at a time, remembering the last block. */
    private static final class Refcounts {
        private final FileChannel ch;
        private final long fileSize;
        private final int clusterSize;
        private final int order;
        private final long perBlock;
        private final long tableOffset;
        private final long tableEntries;
        private long blockIndex = -1;
        private byte[] block;

        Refcounts(FileChannel ch, long fileSize, Qcow2Header h) throws IOException {
            this.ch = ch;
            this.fileSize = fileSize;
            this.clusterSize = h.clusterSize();
            this.order = h.refcountOrder();
            if (order < 0 || order > 6) {
                throw new IOException("refcount order " + order);
            }
            this.perBlock = (long) clusterSize * 8 >>> order;
            this.tableOffset = h.refcountTableOffset();
            this.tableEntries = Integer.toUnsignedLong(h.refcountTableClusters()) * clusterSize / 8;
        }

        boolean inUse(long cluster) throws IOException {
            long index = cluster / perBlock;
            if (index != blockIndex) {
                blockIndex = index;
                block = readBlock(index);
            }
            if (block == null) {
                return false;
            }
            long bit = (cluster % perBlock) << order;
            int width = 1 << order;
            int byteIndex = (int) (bit >>> 3);
            if (width < 8) {
                int shift = (int) (bit & 7); // sub-byte refcounts are packed from the low bit
                return ((block[byteIndex] >>> shift) & ((1 << width) - 1)) != 0;
            }
            for (int b = 0; b < width / 8; b++) {
                if (block[byteIndex + b] != 0) {
                    return true;
                }
            }
            return false;
        }

        private byte[] readBlock(long index) throws IOException {
            if (index >= tableEntries) {
                return null;
            }
            long entryAt = tableOffset + index * 8;
            if (tableOffset <= 0 || entryAt < 0 || entryAt + 8 > fileSize) {
                throw new IOException("refcount table outside the file");
            }
            ByteBuffer e = ByteBuffer.allocate(8);
            Qcow2Header.readFully(ch, e, entryAt);
            long offset = e.getLong(0) & REFCOUNT_TABLE_OFFSET_MASK;
            if (offset == 0) {
                return null;
            }
            if (offset > fileSize - clusterSize) {
                throw new IOException("refcount block outside the file");
            }
            ByteBuffer b = ByteBuffer.allocate(clusterSize);
            Qcow2Header.readFully(ch, b, offset);
            return b.array();
        }
    }
}
