package io.extentflow.sinks.nbd;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.SinkProvider;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClientOptions;
import reactor.core.publisher.Mono;

/** Opens {@code nbd://} and {@code nbd+unix://} addresses as targets. */
public final class NbdSinkProvider implements SinkProvider {

    @Override
    public boolean accepts(String address) {
        return NbdAddress.isNbd(address);
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
                        .withConnections(options.connectionsOr(NbdClientOptions.DEFAULT_CONNECTIONS)),
                        options.allocateZeroes()))
                .cast(ImageSink.class);
    }
}
