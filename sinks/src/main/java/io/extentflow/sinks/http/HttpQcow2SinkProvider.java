package io.extentflow.sinks.http;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.FormatOptions;
import io.extentflow.engine.endpoint.SinkProvider;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.sinks.qcow2.Qcow2Options;
import java.util.List;
import java.util.Set;
import reactor.core.publisher.Mono;

/**
 * Opens an imageio ticket ({@code http(s)://host:port/images/TICKET}) as a qcow2 target when the qcow2
 * format is asked for ({@code --output-format qcow2}): the qcow2 file goes to the ticket's file in one
 * request ({@link HttpQcow2Sink}). Without it the ticket takes the guest's bytes ({@link HttpSinkProvider}).
 */
public final class HttpQcow2SinkProvider implements SinkProvider {

    private static final String FORMAT = "qcow2";

    /** Never by the address alone: only when the qcow2 format is asked for. */
    @Override
    public boolean accepts(String address) {
        return false;
    }

    @Override
    public boolean accepts(String address, String format) {
        return FORMAT.equals(format) && (address.startsWith("http://") || address.startsWith("https://"));
    }

    @Override
    public Set<String> formats() {
        return Set.of(FORMAT);
    }

    @Override
    public String addresses() {
        return "http(s)://host:port/images/TICKET with --output-format qcow2 (a qcow2 file sent in one request)";
    }

    @Override
    public String kind() {
        return "qcow2 imageio ticket";
    }

    /**
     * The connection's options, the format and the cluster size. Not compression nor a backing file,
     * which an image written in one pass cannot have (refused naming the qcow2 file targets that take
     * them); not the number of connections, as there is one request.
     */
    @Override
    public List<EndpointOption<?>> options() {
        return List.of(HttpOptions.CA_FILE, HttpOptions.INSECURE, HttpOptions.RETRIES, FormatOptions.OUTPUT_FORMAT,
                Qcow2Options.CLUSTER_SIZE);
    }

    /** One request from the image's first byte: a copy that stopped starts again from zero. */
    @Override
    public boolean resumable(String address, EndpointOptions options) {
        return false;
    }

    /** Before the other imageio provider (which writes raw only). */
    @Override
    public int order() {
        return -10;
    }

    @Override
    public Mono<ImageSink> openSink(String address, long size, EndpointOptions options) {
        return Mono.defer(() -> HttpQcow2Sink.open(address, size, Qcow2Options.of(options), options));
    }
}
