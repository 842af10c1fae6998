package io.extentflow.perf;

import io.extentflow.engine.Extent;
import io.extentflow.sources.file.RawFileSource;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A baseline for compare-local.sh, not a tool: copies the data extents of a raw file into a new file
 * with one thread, one 4 MiB direct buffer and plain positional {@code FileChannel} reads and
 * writes: no Reactor, no zero detection, no concurrency. What any JVM program pays on this machine
 * for the same system calls as qemu-img, so engine overhead and JVM/machine effects can be told
 * apart.
 *
 * <pre>java -cp perf/target/benchmarks.jar io.extentflow.perf.PlainCopy SRC DST</pre>
 */
public final class PlainCopy {

    private PlainCopy() {
    }

    public static void main(String[] args) throws IOException {
        Path src = Path.of(args[0]);
        Path dst = Path.of(args[1]);
        try (RawFileSource in = RawFileSource.openNow(src, RawFileSource.DEFAULT_WINDOW);
             FileChannel out = FileChannel.open(dst, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(4 << 20);
            for (Extent e : in.scan(0, in.size())) {
                if (!e.isData()) {
                    continue;
                }
                for (long pos = e.start(); pos < e.end(); pos += buffer.limit()) {
                    buffer.clear().limit((int) Math.min(buffer.capacity(), e.end() - pos));
                    in.readNow(pos, buffer);
                    buffer.flip();
                    while (buffer.hasRemaining()) {
                        out.write(buffer, pos + buffer.position());
                    }
                }
            }
            try (RandomAccessFile f = new RandomAccessFile(dst.toFile(), "rw")) {
                f.setLength(in.size());
            }
        }
    }
}
