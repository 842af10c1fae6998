package io.extentflow.sources.nbd;

import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.NetworkOptions;
import io.extentflow.engine.endpoint.SourceProvider;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.sources.ChainOptions;
import io.extentflow.sources.DirtyOptions;
import java.util.List;
import reactor.core.publisher.Mono;

/** Opens {@code nbd://} and {@code nbd+unix://} addresses as sources. */
public final class NbdSourceProvider implements SourceProvider {

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
        return List.of(NetworkOptions.CONNECTIONS, ChainOptions.TOP_LAYER_ONLY, DirtyOptions.DIRTY_BITMAP);
    }

    @Override
    public Mono<ImageSource> openSource(String address, EndpointOptions options) {
        return Mono.fromCallable(() -> NbdAddress.parse(address))
                .flatMap(a -> NbdSource.open(a, clientOptions(options), options.get(ChainOptions.TOP_LAYER_ONLY)))
                .cast(ImageSource.class);
    }

    private static NbdClientOptions clientOptions(EndpointOptions options) {
        NbdClientOptions client = NbdClientOptions.defaults()
                .withConnections(options.getOrElse(NetworkOptions.CONNECTIONS, NbdClientOptions.DEFAULT_CONNECTIONS));
        String bitmap = options.get(DirtyOptions.DIRTY_BITMAP);
        return bitmap == null ? client : client.withMetaContext(NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX
                + DirtyOptions.bitmapName(bitmap));
    }
}
