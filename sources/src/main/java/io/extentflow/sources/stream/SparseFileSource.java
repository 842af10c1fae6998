package io.extentflow.sources.stream;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.extent.ExtentWindows;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.sparse.SparseFrame;
import io.extentflow.engine.sparse.SparseStreamException;
import io.extentflow.engine.sparse.SparseStreamReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A sparse-stream file ({@code *.sparse}) read as a random-access image. Opening walks the frame
 * headers once, jumping over payloads, and keeps an index of the frames (a few longs per frame);
 * extents and reads are then answered from the index like any file. A gap between frames reads as
 * zeros; the image ends where the last frame ends.
 */
public final class SparseFileSource implements ImageSource {

    private static final byte[] ZEROS = new byte[64 << 10];

    private final Path path;
    private final FileChannel channel;
    private final long size;
    // frame i covers [starts[i], starts[i] + lengths[i]); payloads[i] is its payload's file offset, -1 for zero frames
    private final long[] starts;
    private final long[] lengths;
    private final long[] payloads;

    private SparseFileSource(Path path, FileChannel channel, long[] starts, long[] lengths, long[] payloads) {
        this.path = path;
        this.channel = channel;
        this.starts = starts;
        this.lengths = lengths;
        this.payloads = payloads;
        int n = starts.length;
        this.size = n == 0 ? 0 : starts[n - 1] + lengths[n - 1];
    }

    /** Opens and indexes {@code path}, on the file I/O scheduler. */
    public static Mono<SparseFileSource> open(Path path) {
        return BlockingIo.call(() -> {
            io.extentflow.engine.io.FileProbe.requireReadable(path);
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            try {
                return index(path, ch);
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        });
    }

    private static SparseFileSource index(Path path, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        ByteBuffer header = ByteBuffer.allocate(SparseFrame.HEADER_SIZE);
        ByteBuffer terminator = ByteBuffer.allocate(SparseFrame.TERMINATOR_SIZE);
        long[] starts = new long[64];
        long[] lengths = new long[64];
        long[] payloads = new long[64];
        int n = 0;
        long pos = 0;
        long imageEnd = 0;
        while (true) {
            if (pos + SparseFrame.HEADER_SIZE > fileSize) {
                throw new SparseStreamException(pos, null, pos == fileSize
                        ? "stream ended without a stop frame" : "stream truncated inside a frame header");
            }
            readAt(ch, header.clear(), pos);
            SparseFrame f = SparseFrame.parse(header.flip(), pos);
            SparseStreamReader.check(f, pos, imageEnd);
            if (f.kind() == SparseFrame.Kind.STOP) {
                break;
            }
            if (n == starts.length) {
                starts = Arrays.copyOf(starts, n * 2);
                lengths = Arrays.copyOf(lengths, n * 2);
                payloads = Arrays.copyOf(payloads, n * 2);
            }
            starts[n] = f.start();
            lengths[n] = f.length();
            long next = pos + SparseFrame.HEADER_SIZE;
            if (f.kind() == SparseFrame.Kind.DATA) {
                payloads[n] = next;
                long term = next + f.length();
                if (term + SparseFrame.TERMINATOR_SIZE > fileSize) {
                    throw new SparseStreamException(pos, null, "stream truncated inside a data frame's payload");
                }
                readAt(ch, terminator.clear(), term);
                if (terminator.get(0) != '\r' || terminator.get(1) != '\n') {
                    throw new SparseStreamException(term, null,
                            "data frame at stream offset " + pos + " is missing its \\r\\n terminator");
                }
                next = term + SparseFrame.TERMINATOR_SIZE;
            } else {
                payloads[n] = -1;
            }
            n++;
            imageEnd = f.end();
            pos = next;
        }
        return new SparseFileSource(path, ch, Arrays.copyOf(starts, n), Arrays.copyOf(lengths, n),
                Arrays.copyOf(payloads, n));
    }

    private static void readAt(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) {
                throw new SparseStreamException(pos, null, "stream truncated");
            }
        }
    }

    @Override
    public String endpoint() {
        return "file:" + path;
    }

    @Override
    public String format() {
        return "sparse-stream";
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public Map<String, Object> details() {
        return Map.of("frames", starts.length);
    }

    @Override
    public Flux<Extent> extents(long start, long length) {
        if (!ImageIoException.fits(start, length, size)) {
            return Flux.error(ImageIoException.outside("extents", endpoint(), start, length, size));
        }
        return ExtentWindows.windowed(endpoint(), start, length, 1L << 30,
                (s, l) -> Mono.fromSupplier(() -> slice(s, s + l)));
    }

    /** The extents of {@code [from, to)} from the index: frames, and holes for the gaps between them. */
    private List<Extent> slice(long from, long to) {
        List<Extent> out = new ArrayList<>();
        long pos = from;
        for (int i = frameAtOrAfter(from); i < starts.length && pos < to; i++) {
            if (starts[i] > pos) {
                out.add(Extent.hole(pos, Math.min(starts[i], to) - pos));
                pos = starts[i];
                if (pos >= to) {
                    break;
                }
            }
            long end = Math.min(starts[i] + lengths[i], to);
            out.add(payloads[i] >= 0 ? Extent.data(pos, end - pos) : Extent.zero(pos, end - pos));
            pos = end;
        }
        if (pos < to) {
            out.add(Extent.hole(pos, to - pos));
        }
        return out;
    }

    /** Index of the first frame that ends after {@code offset}. */
    private int frameAtOrAfter(long offset) {
        int lo = 0;
        int hi = starts.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (starts[mid] + lengths[mid] <= offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    @Override
    public Mono<Void> read(long offset, ByteBuffer target) {
        int length = target.remaining();
        if (!ImageIoException.fits(offset, length, size)) {
            return Mono.error(ImageIoException.outside("read", endpoint(), offset, length, size));
        }
        return BlockingIo.run(() -> readNow(offset, target));
    }

    private void readNow(long offset, ByteBuffer target) throws IOException {
        long pos = offset;
        int i = frameAtOrAfter(offset);
        while (target.hasRemaining()) {
            long frameStart = i < starts.length ? starts[i] : Long.MAX_VALUE;
            int n;
            if (pos < frameStart || payloads[i] < 0) {
                // a gap or a zero frame
                long end = pos < frameStart ? frameStart : frameStart + lengths[i];
                n = (int) Math.min(target.remaining(), end - pos);
                for (int done = 0; done < n; done += ZEROS.length) {
                    target.put(ZEROS, 0, Math.min(ZEROS.length, n - done));
                }
            } else {
                n = (int) Math.min(target.remaining(), frameStart + lengths[i] - pos);
                ByteBuffer part = target.slice(target.position(), n);
                long at = payloads[i] + (pos - frameStart);
                while (part.hasRemaining()) {
                    if (channel.read(part, at + part.position()) < 0) {
                        throw new IOException(path + " was truncated while reading");
                    }
                }
                target.position(target.position() + n);
            }
            pos += n;
            if (i < starts.length && pos >= starts[i] + lengths[i]) {
                i++;
            }
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only
        }
    }
}
