package io.extentflow.sinks.qcow2;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.endpoint.FormatOptions;
import io.extentflow.engine.endpoint.SinkProvider;
import io.extentflow.engine.endpoint.StreamAddress;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.io.StreamThreads;
import io.extentflow.sinks.file.DirectWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * Opens {@code -} (standard output) and named pipes as qcow2 targets written in one pass
 * ({@link Qcow2StreamSink}), when the qcow2 format is asked for ({@code --output-format qcow2});
 * without it {@code -} stays a sparse stream. Asked before the other providers that take these
 * addresses, so the format decides.
 *
 * <p>Standard output redirected to a regular file gets the magic last (see {@link Qcow2StreamSink});
 * such a file must be empty, as {@code > file} leaves it. Opened for appending ({@code >> file}) it
 * cannot take a positioned write, and is written as a pipe is.
 */
public final class Qcow2StreamSinkProvider implements SinkProvider {

    static final String FORMAT = "qcow2";
    /** {@code S_IFMT} and {@code S_IFIFO} of {@code stat(2)}'s mode. */
    private static final int TYPE_MASK = 0170000;
    private static final int FIFO = 0010000;
    /** {@code O_APPEND} in {@code /proc/self/fdinfo}'s octal flags. */
    private static final int O_APPEND = 02000;

    /** Never by the address alone: only when the qcow2 format is asked for. */
    @Override
    public boolean accepts(String address) {
        return false;
    }

    @Override
    public boolean accepts(String address, String format) {
        return FORMAT.equals(format) && (StreamAddress.isStdio(address) || isPipe(address));
    }

    private static boolean isPipe(String address) {
        if (!FileAddress.isFile(address)) {
            return false;
        }
        try {
            return ((int) Files.getAttribute(FileAddress.toPath(address), "unix:mode") & TYPE_MASK) == FIFO;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false; // missing, or not a pipe
        }
    }

    @Override
    public Set<String> formats() {
        return Set.of(FORMAT);
    }

    @Override
    public String addresses() {
        return "- or a named pipe with --output-format qcow2 (a qcow2 image written in one pass)";
    }

    @Override
    public String kind() {
        return "qcow2 stream";
    }

    /** A stream is written from its start: a copy that stopped starts again from zero (nothing to remove). */
    @Override
    public boolean resumable(String address, EndpointOptions options) {
        return false;
    }

    /**
     * The format and the cluster size, the same keys as the qcow2 file target's. Not compression nor a
     * backing file, which a stream cannot take: given, they are refused as options this target does not
     * take, in one line naming the qcow2 file targets that do.
     */
    @Override
    public List<EndpointOption<?>> options() {
        return List.of(FormatOptions.OUTPUT_FORMAT, Qcow2Options.CLUSTER_SIZE);
    }

    /** Before the sparse stream (50), the qcow2 file (90) and the raw file (100) providers. */
    @Override
    public int order() {
        return 40;
    }

    @Override
    public Mono<ImageSink> openSink(String address, long size, EndpointOptions options) {
        Qcow2SinkOptions layout = layoutOptions(options);
        if (StreamAddress.isStdio(address)) {
            return BlockingIo.call(() -> openStdout(size, layout));
        }
        Path path = FileAddress.toPath(address);
        // opening a pipe for writing waits for its reader: a stream thread's wait, not a file I/O thread's
        return Mono.<ImageSink>fromCallable(() -> {
            Qcow2StreamSink.refuseUnsupported("file:" + path, size, layout);
            FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE);
            return new Qcow2StreamSink(ch, null, null, "file:" + path, size, layout);
        }).subscribeOn(StreamThreads.scheduler());
    }

    /** The layout the qcow2 options ask for ({@link Qcow2Options}); compression and backing files are refused. */
    static Qcow2SinkOptions layoutOptions(EndpointOptions options) {
        return Qcow2Options.of(options);
    }

    private static ImageSink openStdout(long size, Qcow2SinkOptions layout) throws IOException {
        Qcow2StreamSink.refuseUnsupported("stdout", size, layout);
        FileChannel stdout = new FileOutputStream(FileDescriptor.out).getChannel();
        FileChannel file = null;
        DirectWriter direct = null;
        Path fd1 = Path.of("/proc/self/fd/1");
        if (Files.isRegularFile(fd1)) {
            if (stdout.size() != 0 || stdout.position() != 0) {
                throw new IOException("stdout: is a file that already holds " + stdout.size() + " bytes; a qcow2 "
                        + "image starts at the beginning of its file: redirect it to a new file (> FILE)");
            }
            if (!appending()) {
                file = stdout;
                direct = DirectWriter.open(fd1, 1); // as the random-access writer: data bypasses the page cache
            }
        }
        return new Qcow2StreamSink(stdout, file, direct, "stdout", size, layout);
    }

    /** True if standard output was opened for appending, which makes a positioned write append. */
    private static boolean appending() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/1"))) {
            if (line.startsWith("flags:")) {
                return (Integer.parseInt(line.substring(6).strip(), 8) & O_APPEND) != 0;
            }
        }
        return true; // unknown: written as a pipe is, which is safe either way
    }
}
