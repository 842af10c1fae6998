package io.extentflow.sinks.stream;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.endpoint.SinkProvider;
import io.extentflow.engine.endpoint.StreamAddress;
import io.extentflow.engine.io.BlockingIo;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import reactor.core.publisher.Mono;

/** Opens {@code -} (standard output) and {@code *.sparse} files as sparse-stream targets. */
public final class StreamSinkProvider implements SinkProvider {

    @Override
    public boolean accepts(String address) {
        return StreamAddress.isStream(address);
    }

    @Override
    public int order() {
        return 50;
    }

    @Override
    public String addresses() {
        return "- (a sparse stream on standard output) or a path ending in " + StreamAddress.SUFFIX;
    }

    @Override
    public String kind() {
        return "sparse stream";
    }

    @Override
    public Mono<ImageSink> openSink(String address, long size, EndpointOptions options) {
        if (StreamAddress.isStdio(address)) {
            FileChannel stdout = new FileOutputStream(FileDescriptor.out).getChannel();
            // standard output redirected to a regular file is synced at the end; a pipe or device is not
            boolean regular = Files.isRegularFile(Path.of("/proc/self/fd/1"));
            return Mono.just(new SparseStreamSink(stdout, regular, "stdout", size));
        }
        Path path = FileAddress.toPath(address);
        return BlockingIo.call(() -> {
            if (Files.isDirectory(path)) {
                throw new IOException(path + ": is a directory");
            }
            FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
            return new SparseStreamSink(ch, true, "file:" + path, size);
        });
    }
}
