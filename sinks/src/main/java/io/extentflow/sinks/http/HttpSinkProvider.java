package io.extentflow.sinks.http;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.SinkProvider;
import io.extentflow.engine.imageio.HttpOptions;
import java.util.List;
import reactor.core.publisher.Mono;

/** Opens {@code http://} and {@code https://} imageio image URLs as upload targets. */
public final class HttpSinkProvider implements SinkProvider {

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
    public Mono<ImageSink> openSink(String address, long size, EndpointOptions options) {
        return openSink(address, Mono.just(size), options);
    }

    /** Asks the server's OPTIONS while the size is still to come (not for a stream upload). */
    @Override
    public Mono<ImageSink> openSink(String address, Mono<Long> size, EndpointOptions options) {
        if (options.get(HttpOptions.HTTP_STREAM)) {
            return size.flatMap(s -> HttpStreamSink.open(address, s, options));
        }
        return HttpSink.open(address, size, options).cast(ImageSink.class);
    }
}
