package io.extentflow.sinks.file;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.endpoint.FormatOptions;
import io.extentflow.engine.endpoint.SinkProvider;
import io.extentflow.sinks.ZeroOptions;
import java.util.List;
import reactor.core.publisher.Mono;

/** Opens local files (plain paths and {@code file:} URIs) as raw targets. */
public final class FileSinkProvider implements SinkProvider {

    @Override
    public boolean accepts(String address) {
        return FileAddress.isFile(address);
    }

    @Override
    public int order() {
        return 100;
    }

    @Override
    public String addresses() {
        return "a file path or file: URI (written raw)";
    }

    @Override
    public String kind() {
        return "raw file";
    }

    @Override
    public List<EndpointOption<?>> options() {
        return List.of(FormatOptions.OUTPUT_FORMAT, FileSinkOptions.KEEP_CACHE, FileSinkOptions.DIRECT, FileSinkOptions.NO_OFFLOAD,
                FileSinkOptions.OFFLOAD, ZeroOptions.ALLOCATE_ZEROES);
    }

    @Override
    public Mono<ImageSink> openSink(String address, long size, EndpointOptions options) {
        return Mono.defer(() -> RawFileSink.open(FileAddress.toPath(address), size, options).cast(ImageSink.class));
    }
}
