package io.extentflow.sinks.qcow2;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.endpoint.SinkProvider;
import java.util.Locale;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * Opens local files named {@code *.qcow2} (plain paths and {@code file:} URIs) as qcow2 targets
 * with {@link Qcow2SinkOptions#defaults()}: 64 KiB clusters, no compression, no backing file. Asked
 * before the raw {@link io.extentflow.sinks.file.FileSinkProvider}, which takes every other file.
 */
public final class Qcow2SinkProvider implements SinkProvider {

    @Override
    public boolean accepts(String address) {
        return FileAddress.isFile(address) && FileAddress.toPath(address).getFileName() != null
                && FileAddress.toPath(address).getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".qcow2");
    }

    @Override
    public Set<String> formats() {
        return Set.of("qcow2");
    }

    @Override
    public String addresses() {
        return "a file path ending in .qcow2 (written as qcow2)";
    }

    /** Before the raw file provider (100). */
    @Override
    public int order() {
        return 90;
    }

    @Override
    public Mono<ImageSink> openSink(String address, long size, EndpointOptions options) {
        return Mono.defer(() -> Qcow2FileSink.open(FileAddress.toPath(address), size, Qcow2SinkOptions.defaults())
                .cast(ImageSink.class));
    }
}
