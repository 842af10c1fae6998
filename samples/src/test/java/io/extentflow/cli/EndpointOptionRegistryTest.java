package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.FormatOptions;
import io.extentflow.engine.endpoint.NetworkOptions;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.sinks.ZeroOptions;
import io.extentflow.sinks.file.FileSinkOptions;
import io.extentflow.sinks.qcow2.Qcow2Options;
import io.extentflow.sources.ChainOptions;
import io.extentflow.sources.DirtyOptions;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The endpoint options the providers on the class path (all of this project's) declare. */
class EndpointOptionRegistryTest {

    @Test
    void everyKindDeclaresItsOptionsAndASharedOneIsListedOnce() {
        assertEquals(List.of("cafile", "connections", "dirty-bitmap", "http-stream", "insecure", "retries",
                        "top-layer-only"),
                names(Endpoints.sourceOptions()));
        assertEquals(List.of("allocate-zeroes", "backing", "backing-format", "cafile", "cluster-size", "compress",
                "connections", "direct", "http-stream", "insecure", "keep-cache", "no-offload", "offload", "output-format",
                "retries"),
                names(Endpoints.sinkOptions()));
        List<EndpointOption<?>> all = Endpoints.options();
        assertEquals(all.size(), Set.copyOf(names(all)).size(), "each option once: " + names(all));
        assertEquals(17, all.size(), names(all)::toString);
        // NBD and HTTP, sources and sinks, list one and the same key
        assertEquals(1, all.stream().filter(o -> o == NetworkOptions.CONNECTIONS).count());
        for (EndpointOption<?> o : all) {
            assertFalse(o.description().isBlank(), o.name());
            assertTrue(o.isFlag() || o.valueLabel() != null, o.name() + " needs a value label for help");
        }
    }

    @Test
    void findsAnOptionByItsNameOrItsJsonName() {
        assertSame(HttpOptions.CA_FILE, Endpoints.option("cafile"));
        assertSame(HttpOptions.CA_FILE, Endpoints.option("ca_file"));
        assertSame(ChainOptions.TOP_LAYER_ONLY, Endpoints.option("top_layer_only"));
        assertSame(ZeroOptions.ALLOCATE_ZEROES, Endpoints.option("allocate-zeroes"));
        assertSame(FileSinkOptions.KEEP_CACHE, Endpoints.option("keep-cache"));
        assertSame(FormatOptions.OUTPUT_FORMAT, Endpoints.option("output_format"));
        assertSame(Qcow2Options.CLUSTER_SIZE, Endpoints.option("cluster_size"));
        assertSame(DirtyOptions.DIRTY_BITMAP, Endpoints.option("dirty_bitmap"));

        EndpointOptions byName = EndpointOptions.defaults().withParsed(Endpoints.option("connections"), "3")
                .withParsed(Endpoints.option("top-layer-only"), "true");
        assertEquals(3, byName.get(NetworkOptions.CONNECTIONS));
        assertEquals(true, byName.get(ChainOptions.TOP_LAYER_ONLY));
        assertEquals(EndpointOptions.defaults().with(NetworkOptions.CONNECTIONS, 3)
                .with(ChainOptions.TOP_LAYER_ONLY, true), byName);
    }

    @Test
    void anUnknownOptionIsAnErrorListingTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Endpoints.option("warp-speed"));
        assertEquals("unknown option 'warp-speed' (known: allocate-zeroes, backing, backing-format, cafile, "
                + "cluster-size, compress, connections, direct, dirty-bitmap, http-stream, insecure, keep-cache, no-offload, "
                + "offload, output-format, retries, top-layer-only)", e.getMessage());
    }

    @Test
    void anUnknownAddressIsAnErrorListingWhatTheProvidersOpen() {
        // in the order the providers are asked: URI schemes, then streams, then the catch-all for paths
        assertEquals("expected http(s)://host:port/images/TICKET; "
                + "nbd://host[:port]/export or nbd+unix:///export?socket=PATH; - (a sparse stream on standard input) or a path ending in "
                + ".sparse; a file path or file: URI (raw or qcow2)", Endpoints.sourceAddresses());
        String sinks = Endpoints.sinkAddresses();
        for (String kind : List.of("nbd://", "nbd+unix://", "http(s)://", "a file path", "null:", "standard output")) {
            assertTrue(sinks.contains(kind), kind + " missing from: " + sinks);
        }
        IllegalArgumentException source = assertThrows(IllegalArgumentException.class,
                () -> Endpoints.source("gopher://host/disk").block());
        assertEquals("unknown address 'gopher://host/disk': " + Endpoints.sourceAddresses(), source.getMessage());
        IllegalArgumentException sink = assertThrows(IllegalArgumentException.class,
                () -> Endpoints.sink("gopher://host/disk", 4096).block());
        assertEquals("unknown address 'gopher://host/disk': " + sinks, sink.getMessage());
    }

    private static List<String> names(List<EndpointOption<?>> options) {
        return options.stream().map(EndpointOption::name).sorted().collect(Collectors.toList());
    }
}
