package io.extentflow.sources.nbd;

import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.SourceProvider;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClientOptions;
import reactor.core.publisher.Mono;

/** Opens {@code nbd://} and {@code nbd+unix://} addresses as sources. */
public final class NbdSourceProvider implements SourceProvider {

    @Override
    public boolean accepts(String address) {
        return NbdAddress.isNbd(address);
    }

    @Override
    public Mono<ImageSource> openSource(String address, EndpointOptions options) {
        return Mono.fromCallable(() -> NbdAddress.parse(address))
                .flatMap(a -> NbdSource.open(a, NbdClientOptions.defaults()
                        .withConnections(options.connectionsOr(NbdClientOptions.DEFAULT_CONNECTIONS)),
                        options.topLayerOnly()))
                .cast(ImageSource.class);
    }
}
