package io.extentflow.sources.file;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.CachedReads;
import io.extentflow.engine.capability.Capabilities;
import io.extentflow.engine.capability.HostOffsets;
import io.extentflow.engine.capability.LocalFileBytes;
import io.extentflow.engine.capability.SourceCapability;
import io.extentflow.engine.extent.ExtentWindows;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.FileProbe;
import io.extentflow.engine.io.OpenFile;
import io.extentflow.engine.io.Posix;
import io.extentflow.engine.map.MapEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A raw image in a local file or block device. Extents come from {@code lseek(SEEK_DATA/SEEK_HOLE)};
 * data is read with positional reads. All blocking calls run on {@link BlockingIo#scheduler()}; what is
 * in the page cache can also be read from any thread ({@link CachedReads}, {@code RWF_NOWAIT}).
 *
 * <p>SEEK_DATA cannot tell allocated zeros from data, so written zeros are reported as data (as
 * {@code qemu-img map} does) and found later by the copy's zero detection.
 */
public final class RawFileSource implements ImageSource, HostOffsets {

    /** Default bytes of image per extent query. */
    public static final long DEFAULT_WINDOW = 1L << 30;

    private final OpenFile file;
    private final String endpoint;
    private final long size;
    private final boolean seekable;
    private final long window;
    /** Host offsets, the file itself (a raw file's data is at its guest offsets) and cached reads. */
    private final Capabilities capabilities;

    private RawFileSource(OpenFile file, long size, boolean seekable, long window) {
        this.file = file;
        this.endpoint = "file:" + file.path();
        this.size = size;
        this.seekable = seekable;
        this.window = window;
        this.capabilities = Capabilities.none().with(HostOffsets.class, this)
                .with(LocalFileBytes.class, () -> file)
                .with(CachedReads.class, this::readCached);
    }

    /** Opens {@code path} read-only, on the file I/O scheduler. */
    public static Mono<RawFileSource> open(Path path) {
        return open(path, DEFAULT_WINDOW);
    }

    /** Opens {@code path} read-only with extent windows of {@code window} bytes. */
    public static Mono<RawFileSource> open(Path path, long window) {
        return BlockingIo.call(() -> openNow(path, window));
    }

    /**
     * Opens {@code path} on the calling thread; for callers already on the file I/O scheduler (such
     * as a qcow2 chain opening its raw backing file).
     */
    public static RawFileSource openNow(Path path, long window) throws IOException {
        FileProbe.requireReadable(path);
        OpenFile file = OpenFile.readOnly(path);
        try {
            long size = file.size();
            boolean seekable = !FileProbe.isBlockDevice(path) && supportsSeekData(file.fd(), size);
            return new RawFileSource(file, size, seekable, window);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /** Some file systems answer SEEK_DATA with EINVAL; then the whole file is data. */
    private static boolean supportsSeekData(int fd, long size) {
        if (size == 0) {
            return true;
        }
        try {
            Posix.lseek(fd, 0, Posix.SEEK_DATA);
            return true;
        } catch (Posix.ErrnoException e) {
            return false;
        }
    }

    @Override
    public String endpoint() {
        return endpoint;
    }

    @Override
    public String format() {
        return "raw";
    }

    @Override
    public long size() {
        return size;
    }

    /** The file this source reads. */
    public Path path() {
        return file.path();
    }

    @Override
    public Flux<Extent> extents(long start, long length) {
        if (!ImageIoException.fits(start, length, size)) {
            return Flux.error(ImageIoException.outside("extents", endpoint, start, length, size));
        }
        return ExtentWindows.windowed(endpoint, start, length, window,
                (s, l) -> BlockingIo.call(() -> scan(s, s + l)));
    }

    /**
     * The extents of {@code [from, to)} by alternating SEEK_DATA and SEEK_HOLE. Blocking.
     */
    public List<Extent> scan(long from, long to) throws IOException {
        List<Extent> out = new ArrayList<>();
        if (!seekable) {
            out.add(Extent.data(from, to - from));
            return out;
        }
        long pos = from;
        while (pos < to) {
            long data = Posix.lseek(file.fd(), pos, Posix.SEEK_DATA);
            if (data < 0 || data >= to) {
                out.add(Extent.hole(pos, to - pos));
                break;
            }
            if (data > pos) {
                out.add(Extent.hole(pos, data - pos));
            }
            long hole = Posix.lseek(file.fd(), data, Posix.SEEK_HOLE);
            long end = hole < 0 ? to : Math.min(hole, to);
            out.add(Extent.data(data, end - data));
            pos = end;
        }
        return out;
    }

    @Override
    public Mono<Void> read(long offset, ByteBuffer target) {
        int length = target.remaining();
        if (!ImageIoException.fits(offset, length, size)) {
            return Mono.error(ImageIoException.outside("read", endpoint, offset, length, size));
        }
        return BlockingIo.run(() -> readNow(offset, target));
    }

    /**
     * Reads the pieces one after the other in one task on the file I/O scheduler (one hand-off for
     * them all), and only them: reading the holes between them would fill the page cache with zero
     * pages, which cost this VM seconds for the 2 GiB of holes of a fragmented 4 GiB image.
     */
    @Override
    public Mono<Void> readPieces(long offset, ByteBuffer target, List<Extent> pieces) {
        int length = target.remaining();
        if (!ImageIoException.fits(offset, length, size)) {
            return Mono.error(ImageIoException.outside("read", endpoint, offset, length, size));
        }
        int base = target.position();
        return BlockingIo.run(() -> {
            for (Extent p : pieces) {
                readNow(p.start(), target.slice(base + (int) (p.start() - offset), (int) p.length()));
            }
            target.position(target.limit());
        });
    }

    /** Reads {@code target.remaining()} bytes at {@code offset} on the calling thread. Blocking. */
    public void readNow(long offset, ByteBuffer target) throws IOException {
        long pos = offset;
        while (target.hasRemaining()) {
            int n = file.channel().read(target, pos);
            if (n < 0) {
                throw new IOException("file " + file.path() + " ended at " + pos + " (was it truncated?)");
            }
            pos += n;
        }
    }

    /**
     * {@link CachedReads}: what of the range the page cache holds ({@link OpenFile#readCached}, {@code
     * preadv2(RWF_NOWAIT)}); nothing outside the file.
     */
    private int readCached(long offset, ByteBuffer target) {
        return ImageIoException.fits(offset, target.remaining(), size) ? file.readCached(offset, target) : 0;
    }

    @Override
    public <C extends SourceCapability> Optional<C> capability(Class<C> type) {
        return capabilities.get(type);
    }

    /** {@code qemu-img map}'s entries: every range at depth 0, its host offset its guest offset. */
    @Override
    public Flux<MapEntry> map(long start, long length) {
        return extents(start, length).map(e -> new MapEntry(e.start(), e.length(), 0, true, e.zero(),
                !e.zero(), e.start(), null));
    }

    /** This one file. */
    @Override
    public List<Path> files() {
        return List.of(file.path());
    }

    @Override
    public void close() {
        file.close();
    }
}
