package io.extentflow.engine.testing;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.nbd.server.NbdExport;
import io.extentflow.engine.nbd.server.NbdServer;
import io.extentflow.engine.nbd.server.NbdServerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * extentflow's own NBD server in the test's JVM (under BlockHound), for the client tests that run
 * against qemu-nbd to run against it too: {@code qemu-nbd -r -A -e 8 IMAGE} and
 * {@code OwnNbdServer.serve(dir, source, null)} offer the same export. Closing it stops the server
 * and closes the source and sink it was given.
 */
public final class OwnNbdServer implements AutoCloseable {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final NbdServer server;
    private final ImageSource source;
    private final ImageSink sink;

    private OwnNbdServer(NbdServer server, ImageSource source, ImageSink sink) {
        this.server = server;
        this.source = source;
        this.sink = sink;
    }

    /** Serves {@code source} (writable through {@code sink} when not null) on a new socket in {@code dir}. */
    public static OwnNbdServer serve(Path dir, ImageSource source, ImageSink sink) {
        return serve(dir, source, sink, NbdServerConfig.defaults().maxConnections());
    }

    /** As {@link #serve(Path, ImageSource, ImageSink)}, serving at most {@code connections} clients at once. */
    public static OwnNbdServer serve(Path dir, ImageSource source, ImageSink sink, int connections) {
        Path socket = dir.resolve("extentflow-nbd-" + COUNTER.incrementAndGet() + ".sock");
        NbdServer s = NbdServer.start(NbdServerConfig.defaults().withSocket(socket).withMaxConnections(connections),
                new NbdExport("", "", source, sink, true)).block(WAIT);
        return new OwnNbdServer(s, source, sink);
    }

    /** The URI of the export. */
    public String uri() {
        return server.uri("");
    }

    @Override
    public void close() {
        server.shutdown(WAIT).block(WAIT);
        if (sink != null) {
            sink.close();
        }
        source.close();
    }
}
