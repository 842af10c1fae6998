package io.extentflow.daemon;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Map;

/**
 * The network host a job reads from, {@code host:port}, for the fleet's limit of running jobs per
 * source host: an NBD server or an imageio HTTP server copes with so many readers at once, whichever
 * daemon they come from. Local sources (files, Unix sockets, streams) have none.
 */
final class SourceHost {

    /** The schemes with a host, and their default ports. */
    private static final Map<String, Integer> PORTS = Map.of("nbd", 10809, "nbds", 10809, "http", 80, "https", 443);

    private SourceHost() {
    }

    /** {@code host:port} of a network address (host in lower case), or null. */
    static String of(String address) {
        URI uri;
        try {
            uri = new URI(address);
        } catch (URISyntaxException e) {
            return null;
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        Integer defaultPort = scheme == null ? null : PORTS.get(scheme);
        if (defaultPort == null || uri.getHost() == null) {
            return null;
        }
        return uri.getHost().toLowerCase(Locale.ROOT) + ":" + (uri.getPort() < 0 ? defaultPort : uri.getPort());
    }
}
