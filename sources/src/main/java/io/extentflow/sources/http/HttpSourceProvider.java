package io.extentflow.sources.http;

import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.SourceProvider;
import reactor.core.publisher.Mono;

/** Opens {@code http://} and {@code https://} imageio image URLs. */
public final class HttpSourceProvider implements SourceProvider {

    @Override
    public boolean accepts(String address) {
        return address.startsWith("http://") || address.startsWith("https://");
    }

    @Override
    public Mono<ImageSource> openSource(String address, EndpointOptions options) {
        if (options.httpStream()) {
            return HttpStreamSource.open(address, options);
        }
        return HttpSource.open(address, options, HttpSource.DEFAULT_WINDOW).cast(ImageSource.class);
    }
}
