package io.extentflow.sources.qcow2;

import io.extentflow.engine.io.Posix;
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
            long realAllocation = Posix.allocatedBytes(path);
            long clusterSize = h.clusterSize();
            long realClusters = realAllocation / clusterSize;
            long threshold = Math.max(realClusters * 10 / 9, realClusters + 2);
            long fileLength = (fileSize + 511) & ~511L;
            long endCluster = (fileLength + clusterSize - 1) / clusterSize;
            Refcounts refcounts = new Refcounts(ch, fileSize, h);
            long inUse = 0;
            long i = 0;
            while (i < endCluster && inUse < threshold) {
                long blockIndex = i / refcounts.perBlock;
                long blockEnd = Math.min(endCluster, (blockIndex + 1) * refcounts.perBlock);
                byte[] block = refcounts.block(blockIndex);
                if (block == null) {
                    i = blockEnd; // no refcount block: none of its clusters is in use
                    continue;
                }
                for (; i < blockEnd && inUse < threshold; i++) {
                    if (refcounts.inUse(block, i - blockIndex * refcounts.perBlock)) {
                        inUse++;
                    }
                }
            }
            return inUse >= threshold;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Reads refcount blocks through the refcount table. */
    private static final class Refcounts {
        private final FileChannel ch;
        private final long fileSize;
        private final int clusterSize;
        private final int order;
        final long perBlock;
        private final long tableOffset;
        private final long tableEntries;

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

        /** True if entry {@code entry} of {@code block} is not zero. */
        boolean inUse(byte[] block, long entry) {
            long bit = entry << order;
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

        /** The refcount block for clusters {@code [index * perBlock, (index + 1) * perBlock)}, or null. */
        byte[] block(long index) throws IOException {
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
