package io.extentflow.sources.stream;

import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.endpoint.SourceProvider;
import io.extentflow.engine.endpoint.StreamAddress;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import reactor.core.publisher.Mono;

/** Opens {@code -} (standard input, read once) and {@code *.sparse} files (random access) as sources. */
public final class StreamSourceProvider implements SourceProvider {

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
        return "- (a sparse stream on standard input) or a path ending in " + StreamAddress.SUFFIX;
    }

    @Override
    public String kind() {
        return "sparse stream";
    }

    @Override
    public Mono<ImageSource> openSource(String address, EndpointOptions options) {
        if (StreamAddress.isStdio(address)) {
            return Mono.just(new SparseStreamSource(new FileInputStream(FileDescriptor.in).getChannel(), "stdin"));
        }
        return SparseFileSource.open(FileAddress.toPath(address)).cast(ImageSource.class);
    }
}
