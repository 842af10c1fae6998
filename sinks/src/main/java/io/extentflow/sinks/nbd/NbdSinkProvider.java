package io.extentflow.sinks.nbd;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.NetworkOptions;
import io.extentflow.engine.endpoint.SinkProvider;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.sinks.ZeroOptions;
import java.util.List;
import reactor.core.publisher.Mono;

/** Opens {@code nbd://} and {@code nbd+unix://} addresses as targets. */
public final class NbdSinkProvider implements SinkProvider {

    @Override
    public boolean accepts(String address) {
        return NbdAddress.isNbd(address);
    }

    @Override
    public String addresses() {
        return "nbd://host[:port]/export or nbd+unix:///export?socket=PATH";
    }

    @Override
    public String kind() {
        return "NBD export";
    }

    @Override
    public List<EndpointOption<?>> options() {
        return List.of(NetworkOptions.CONNECTIONS, ZeroOptions.ALLOCATE_ZEROES);
    }

    @Override
    public Mono<ImageSink> openSink(String address, long size, EndpointOptions options) {
        return openSink(address, Mono.just(size), options);
    }

    /** Connects and shakes hands while the size is still to come. */
    @Override
    public Mono<ImageSink> openSink(String address, Mono<Long> size, EndpointOptions options) {
        return Mono.fromCallable(() -> NbdAddress.parse(address))
                .flatMap(a -> NbdSink.open(a, size, NbdClientOptions.defaults()
                        .withConnections(options.getOrElse(NetworkOptions.CONNECTIONS, NbdClientOptions.DEFAULT_CONNECTIONS)),
                        options.get(ZeroOptions.ALLOCATE_ZEROES)))
                .cast(ImageSink.class);
    }
}
