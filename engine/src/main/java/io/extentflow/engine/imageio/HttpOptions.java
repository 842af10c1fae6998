package io.extentflow.engine.imageio;

import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.NetworkOptions;
import java.nio.file.Path;
import java.util.List;

/**
 * The endpoint options of imageio HTTP addresses ({@code http(s)://host:port/images/TICKET}). They live
 * here, beside the client, because the HTTP source and the HTTP sink (in two modules) both list them.
 */
public final class HttpOptions {

    /** CA certificates (PEM) to trust for {@code https} addresses; the system's by default. */
    public static final EndpointOption<Path> CA_FILE = EndpointOption.path("cafile", "PEM",
            "CA certificates to trust for https addresses.").withJsonName("ca_file");

    /** Do not verify {@code https} certificates. */
    public static final EndpointOption<Boolean> INSECURE = EndpointOption.flag("insecure",
            "Do not verify https certificates.");

    /**
     * Move an image as one sparse stream in a single request ({@code ?format=sparse}) when the server
     * offers it, instead of one request per extent.
     */
    public static final EndpointOption<Boolean> HTTP_STREAM = EndpointOption.flag("http-stream",
            "Move imageio HTTP images as one sparse stream in a single request (GET/PUT ?format=sparse), when "
                    + "the server offers it (extentflow serve does).");

    /** Retries of a request that failed transiently; see {@link ImageioClientOptions#retries()}. */
    public static final EndpointOption<Integer> RETRIES = EndpointOption.integer("retries", "N", 0,
            ImageioClientOptions.DEFAULT_RETRIES, "Retries of an HTTP request that failed on a reset or refused "
                    + "connection, a timeout or a 5xx, waiting 0.1 s doubling up to 2 s between them: N retries "
                    + "wait for a server to come back for about 2N seconds.");

    /** What an HTTP source or sink lists as its options. */
    public static final List<EndpointOption<?>> ALL = List.of(CA_FILE, INSECURE, NetworkOptions.CONNECTIONS,
            HTTP_STREAM, RETRIES);

    private HttpOptions() {
    }

    /** The client options that {@code options} ask for ({@link NetworkOptions#CONNECTIONS} or 4 connections). */
    public static ImageioClientOptions clientOptions(EndpointOptions options) {
        return new ImageioClientOptions(options.get(CA_FILE), options.get(INSECURE),
                options.getOrElse(NetworkOptions.CONNECTIONS, ImageioClientOptions.DEFAULT_CONNECTIONS),
                options.get(RETRIES));
    }
}
