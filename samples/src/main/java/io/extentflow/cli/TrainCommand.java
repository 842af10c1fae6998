package io.extentflow.cli;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.imageio.Ticket;
import io.extentflow.server.ImageServer;
import io.extentflow.server.ServerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code extentflow train --dir DIR} (hidden): runs each kind of copy once, quietly, for the
 * launcher's ahead-of-time cache. The JVM records the classes a run loads and how its methods
 * behave; a cache trained on file copies only left the HTTP client and server, the sparse streams
 * and Netty to be loaded and interpreted anew by every network command. NBD is left out: it needs
 * a server this process does not have.
 */
@Command(name = "train", hidden = true,
        description = "Run each kind of copy once (file, imageio HTTP, sparse streams) for the JVM's cache.")
final class TrainCommand implements Callable<Integer> {

    private static final Duration TIMEOUT = Duration.ofMinutes(1);

    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "An empty directory to work in.")
    Path dir;

    @Override
    public Integer call() throws Exception {
        Files.createDirectories(dir);
        new CommandLine(new DemoCommand()).setOut(new PrintWriter(Writer.nullWriter()))
                .execute("--dir", dir.toString());
        Path disk = dir.resolve("disk.raw");
        long size = Files.size(disk);
        Path uploaded = dir.resolve("uploaded.raw");
        Files.createFile(uploaded);
        List<Ticket> tickets = List.of(ticket("read", disk, size, Set.of("read")),
                ticket("write", uploaded, size, Set.of("read", "write")));
        ServerConfig config = ServerConfig.defaults().withPort(0).withControlSocket(dir.resolve("control.sock"));
        try (ImageServer server = ImageServer.start(config, new SimpleMeterRegistry(), null, null, tickets)
                .block(TIMEOUT)) {
            EndpointOptions stream = EndpointOptions.defaults().withHttpStream(true);
            copy(server.imageUrl("read"), dir.resolve("downloaded.raw").toString(), EndpointOptions.defaults());
            copy(server.imageUrl("read"), dir.resolve("streamed.raw").toString(), stream);
            copy(disk.toString(), server.imageUrl("write"), EndpointOptions.defaults());
            copy(disk.toString(), server.imageUrl("write"), stream);
        }
        copy(disk.toString(), dir.resolve("disk.sparse").toString(), EndpointOptions.defaults());
        copy(dir.resolve("disk.sparse").toString(), dir.resolve("unpacked.raw").toString(), EndpointOptions.defaults());
        return ExitCodes.OK;
    }

    private static Ticket ticket(String id, Path file, long size, Set<String> ops) {
        return new Ticket(id, size, file.toUri().toString(), ops, 300, Ticket.DEFAULT_INACTIVITY_TIMEOUT, true,
                "train-" + id, null);
    }

    private static void copy(String from, String to, EndpointOptions options) {
        try (ImageSource src = Endpoints.source(from, options).block(TIMEOUT);
             ImageSink dst = Endpoints.sink(to, src.size(), options).block(TIMEOUT)) {
            Copy.from(src).to(dst).run().block(TIMEOUT);
        }
    }
}
