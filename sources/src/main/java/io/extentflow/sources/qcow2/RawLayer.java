package io.extentflow.sources.qcow2;

import io.extentflow.engine.Extent;
import io.extentflow.engine.capability.CachedReads;
import io.extentflow.sources.file.RawFileSource;
import io.extentflow.sources.qcow2.LayerRun.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * A raw backing file. Every byte is allocated (as qemu sees it): data where the file has data,
 * zeros in its holes, with host offset equal to guest offset. qemu sees the size rounded up to 512
 * bytes; the bytes past the real end read as zeros.
 */
final class RawLayer implements Layer {

    private static final long FS_BLOCK = 4096;

    private final RawFileSource file;
    /** The file's page cache, read without waiting. */
    private final CachedReads cached;

    private RawLayer(RawFileSource file) {
        this.file = file;
        this.cached = file.capability(CachedReads.class).orElse((offset, target) -> 0);
    }

    /** Opens {@code path}. Blocking. */
    static RawLayer open(Path path) throws IOException {
        return new RawLayer(RawFileSource.openNow(path, RawFileSource.DEFAULT_WINDOW));
    }

    @Override
    public Path path() {
        return file.path();
    }

    @Override
    public String format() {
        return "raw";
    }

    @Override
    public long statusSize() {
        return (file.size() + 511) & ~511L;
    }

    @Override
    public long granularity() {
        return FS_BLOCK;
    }

    @Override
    public void runs(long from, long to, boolean mayBlock, List<LayerRun> out) throws IOException {
        if (!mayBlock) {
            throw WouldBlock.INSTANCE;
        }
        for (Extent e : file.scan(from, to)) {
            out.add(new LayerRun(e.start(), e.length(), e.isData() ? Kind.DATA : Kind.ZERO, e.start(), 0));
        }
    }

    /**
     * One data run, host offset the guest offset: a read takes the file's holes as the zeros they
     * read as, so it needs no {@code lseek} (which may wait for the file system's metadata).
     */
    @Override
    public void readableRuns(long from, long to, List<LayerRun> out) {
        out.add(new LayerRun(from, to - from, Kind.DATA, from, 0));
    }

    @Override
    public int readCached(long host, ByteBuffer dst) {
        return Layer.readCachedFile(cached, file.size(), host, dst);
    }

    @Override
    public void readHost(long host, ByteBuffer dst) throws IOException {
        long inFile = Math.max(0, Math.min(dst.remaining(), file.size() - host));
        if (inFile > 0) {
            ByteBuffer part = dst.slice(dst.position(), (int) inFile);
            file.readNow(host, part);
            dst.position(dst.position() + (int) inFile);
        }
        while (dst.hasRemaining()) {
            dst.put((byte) 0);
        }
    }

    @Override
    public void close() {
        file.close();
    }
}
