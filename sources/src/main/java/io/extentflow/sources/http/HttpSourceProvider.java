package io.extentflow.sources.http;

import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.SourceProvider;
import io.extentflow.engine.imageio.HttpOptions;
import java.util.List;
import reactor.core.publisher.Mono;

/** Opens {@code http://} and {@code https://} imageio image URLs. */
public final class HttpSourceProvider implements SourceProvider {

    @Override
    public boolean accepts(String address) {
        return address.startsWith("http://") || address.startsWith("https://");
    }

    @Override
    public String addresses() {
        return "http(s)://host:port/images/TICKET";
    }

    @Override
    public String kind() {
        return "imageio ticket";
    }

    @Override
    public List<EndpointOption<?>> options() {
        return HttpOptions.ALL;
    }

    @Override
    public Mono<ImageSource> openSource(String address, EndpointOptions options) {
        if (options.get(HttpOptions.HTTP_STREAM)) {
            return HttpStreamSource.open(address, options);
        }
        return HttpSource.open(address, options, HttpSource.DEFAULT_WINDOW).cast(ImageSource.class);
    }
}
