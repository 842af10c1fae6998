package io.extentflow.sinks.discard;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.copy.NullSink;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.SinkProvider;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * Opens {@code null:} as a target that discards what it is given ({@link NullSink}), to measure how
 * fast a source reads. {@code /dev/null} means the same: writing it through a file would cost a
 * system call per request for nothing.
 */
public final class NullSinkProvider implements SinkProvider {

    private static final Set<String> ADDRESSES = Set.of(NullSink.ADDRESS, "/dev/null", "file:/dev/null",
            "file:///dev/null");

    @Override
    public boolean accepts(String address) {
        return ADDRESSES.contains(address);
    }

    @Override
    public int order() {
        return 10; // before files, which would take /dev/null as a path
    }

    @Override
    public String addresses() {
        return NullSink.ADDRESS + " (discards what it is given)";
    }

    @Override
    public String kind() {
        return "discarding sink";
    }

    @Override
    public Mono<ImageSink> openSink(String address, long size, EndpointOptions options) {
        return Mono.fromCallable(() -> new NullSink(size));
    }
}
