package io.extentflow.engine.endpoint;

/**
 * Options that every kind of network endpoint may honour, so they live beside the option type rather
 * than in one kind's package: two kinds in different modules (an NBD export and an imageio server,
 * each with a source and a sink) list the same key, and a user sets it once.
 */
public final class NetworkOptions {

    /**
     * Connections to open where the server allows several. Without a value each kind chooses its own
     * default (its package says which), and no kind opens more than its server allows.
     */
    public static final EndpointOption<Integer> CONNECTIONS = EndpointOption.integer("connections", "N", 1, null,
            "Connections to a server that allows several (default: each kind of address chooses, e.g. one per "
                    + "CPU up to 4, or fewer if the server says so).");

    private NetworkOptions() {
    }
}
