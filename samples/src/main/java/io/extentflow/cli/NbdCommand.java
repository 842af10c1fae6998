package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.cli.args.UsageException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.nbd.server.NbdExport;
import io.extentflow.engine.nbd.server.NbdServer;
import io.extentflow.engine.nbd.server.NbdServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import reactor.core.publisher.Mono;
import reactor.netty.ChannelBindException;

/**
 * {@code extentflow nbd SRC}: serves any address extentflow reads as an NBD export (to qemu, nbdcopy,
 * nbdinfo, the kernel's nbd-client) until SIGINT or SIGTERM, then closes its connections, flushes a
 * writable export and ends.
 *
 * <p>The export is writable when the source is raw and a sink opens on the same address (a raw file
 * or block device; an NBD or imageio target), unless {@code --read-only}; anything else is served
 * read-only. Without TLS the server binds only loopback addresses, unless {@code --allow-plaintext}
 * says that clear text on the network is meant (the HTTP server's rule).
 */
final class NbdCommand {

    private static final String NAME = "extentflow nbd";

    private final EndpointFlags endpoints = EndpointFlags.forCopying();
    private String image;
    private Path socket;
    private Integer port;
    private String bind;
    private boolean readOnly;
    private String exportName = "";
    private int shared;
    private Path tlsCert;
    private Path tlsKey;
    private boolean allowPlaintext;
    private int handshakeTimeout;
    private int idleTimeout;
    private long bufferMemory;

    /** The command line of a new nbd command. */
    static CommandSpec spec() {
        NbdCommand c = new NbdCommand();
        return CommandSpec.named("nbd", "Serves IMAGE as an NBD export until interrupted.",
                        "IMAGE is any address extentflow reads: raw or qcow2 file (with its backing chain), NBD, "
                                + "imageio HTTP. Raw images whose address also opens for writing (files, block "
                                + "devices, NBD exports, writable imageio tickets) are writable unless --read-only; "
                                + "others are read-only.",
                        "Offers base:allocation and, for images with a backing chain, qemu:allocation-depth, as "
                                + "'qemu-nbd -A' does. Without TLS only loopback addresses are served unless "
                                + "--allow-plaintext.")
                .parameter("IMAGE", "Image address (path, nbd://, http://...).", v -> c.image = v)
                .option("--socket", "PATH", "Listen on this Unix socket instead of TCP.", null,
                        v -> c.socket = Path.of(v))
                .option("--port", "N", "TCP port (default 10809).", null, v -> c.port = Integer.valueOf(v))
                .option("--bind", "ADDRESS", "TCP address to listen on.", "127.0.0.1", v -> c.bind = v)
                .flag("--read-only", "Refuse writes even where the image could take them.", () -> c.readOnly = true)
                .option("--export-name", "NAME", "The export's name (default: the empty name, the default export of "
                        + "nbd:// URIs).", null, v -> c.exportName = v)
                .option("--shared", "N", "Connections served at once.", "8", v -> c.shared = Integer.parseInt(v))
                .option("--tls-cert", "PEM", "PEM certificate chain: require TLS (NBD_OPT_STARTTLS).", null,
                        v -> c.tlsCert = Path.of(v))
                .option("--tls-key", "PEM", "PEM private key (PKCS#8) of the certificate.", null,
                        v -> c.tlsKey = Path.of(v))
                .flag("--allow-plaintext", "Serve a non-loopback address without TLS.", () -> c.allowPlaintext = true)
                .option("--handshake-timeout", "SECONDS", "Time a client has to finish the handshake.", "30",
                        v -> c.handshakeTimeout = Integer.parseInt(v))
                .option("--idle-timeout", "SECONDS", "Close a connection without requests for this long.", "600",
                        v -> c.idleTimeout = Integer.parseInt(v))
                .option("--buffer-memory", "BYTES", "Bytes of request data in flight, all connections together.",
                        "64MiB", v -> c.bufferMemory = Sizes.parse(v))
                .with(c.endpoints::define)
                .action(c::call);
    }

    /** The server's configuration from the flags; usage errors for contradictions. */
    NbdServerConfig config() {
        if (socket != null && (port != null || !bind.equals("127.0.0.1"))) {
            throw new UsageException(NAME, "--socket cannot be combined with --port or --bind");
        }
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new UsageException(NAME, "--tls-cert and --tls-key go together");
        }
        if (shared < 1) {
            throw new UsageException(NAME, "--shared must be at least 1");
        }
        if (handshakeTimeout < 1 || idleTimeout < 1) {
            throw new UsageException(NAME, "timeouts must be at least 1 second");
        }
        if (bufferMemory < NbdExport.MAX_PAYLOAD) {
            throw new UsageException(NAME, "--buffer-memory must be at least 32MiB (one largest request)");
        }
        if (socket == null && tlsCert == null && !allowPlaintext && !isLoopback(bind)) {
            throw new UsageException(NAME, "--bind " + bind + " without TLS would send the disk in clear text over "
                    + "the network; give --tls-cert and --tls-key, or --allow-plaintext");
        }
        NbdServerConfig c = NbdServerConfig.defaults()
                .withMaxConnections(shared)
                .withTimeouts(Duration.ofSeconds(handshakeTimeout), Duration.ofSeconds(idleTimeout))
                .withBufferMemory(bufferMemory);
        c = socket != null ? c.withSocket(socket) : c.withTcp(bind, port == null ? NbdServerConfig.DEFAULT_PORT : port);
        return tlsCert != null ? c.withTls(tlsCert, tlsKey) : c;
    }

    private static boolean isLoopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new UsageException(NAME, "--bind " + address + ": unknown address");
        }
    }

    private int call(Console console) throws IOException {
        NbdServerConfig config = config();
        if (socket != null) {
            refuseSocketInUse(socket);
        }
        try (Interruption interruption = Interruption.watch()) {
            ImageSource source = interruption.await(Endpoints.source(image, endpoints.options())).orElseThrow();
            ImageSink sink = null;
            NbdServer server = null;
            try {
                sink = writableSink(source, interruption, console);
                // Every connection shares the one sink, whose flush covers every completed write; a
                // local file's reads then see those writes too. Other targets say nothing of that.
                // With one connection allowed, clients must not open several (qemu-nbd -e 1 alike).
                boolean multiConn = shared > 1 && (sink == null || sink.endpoint().startsWith("file:"));
                NbdExport export = new NbdExport(exportName, "", source, sink, multiConn);
                server = interruption.await(NbdServer.start(config, export)).orElseThrow();
                console.out().println("extentflow nbd: serving " + image + " (" + source.format() + ", "
                        + source.size() + " bytes, " + (sink == null ? "read-only" : "writable")
                        + (multiConn ? ", multi-conn" : "") + ") at " + server.uri(exportName));
                console.out().flush();
                interruption.await(Mono.never());
                return ExitCodes.OK;
            } catch (Interruption.Interrupted e) {
                stop(server, sink, source, console);
                interruption.cleanedUp();
                return ExitCodes.INTERRUPTED;
            } catch (RuntimeException e) {
                stop(server, sink, source, console);
                throw bindFailure(e);
            }
        }
    }

    /**
     * The sink over the source's own address, or null when the export is read-only: asked to be, an
     * image that is not raw (writing through a qcow2 file is not supported), an address nothing writes
     * to, or one that refuses writing (a read-only ticket, file or device), which is said on stderr.
     */
    private ImageSink writableSink(ImageSource source, Interruption interruption, Console console) {
        if (readOnly || !source.format().equals("raw") || !Endpoints.knowsSink(image)) {
            return null;
        }
        try {
            return interruption.await(Endpoints.sink(image, source.size(), endpoints.options())).orElseThrow();
        } catch (Interruption.Interrupted e) {
            throw e;
        } catch (RuntimeException e) {
            console.err().println("extentflow nbd: serving read-only: " + Errors.message(e));
            return null;
        }
    }

    /**
     * Another server's socket must not be taken over: its path would be replaced (and removed when
     * this one ends), leaving that server unreachable. A socket file nobody answers on is stale and
     * is replaced.
     */
    private static void refuseSocketInUse(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException nobodyListens) {
            return;
        }
        throw new IOException("socket " + path + " is in use by another server; stop it or give another --socket");
    }

    /** "Failed to bind on [127.0.0.1:10809]" becomes "port 10809 on 127.0.0.1 is in use". */
    private static RuntimeException bindFailure(RuntimeException e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof ChannelBindException b) {
                String why = b.getCause() instanceof BindException be && be.getMessage() != null
                        && !be.getMessage().contains("in use") ? ": " + be.getMessage() : " is in use";
                return new UncheckedIOException(new IOException("port " + b.localPort() + " on " + b.localHost()
                        + why, e));
            }
        }
        return e;
    }

    /** Closes connections, then makes writes durable and releases the image. */
    private static void stop(NbdServer server, ImageSink sink, ImageSource source, Console console) {
        try {
            Mono<Void> stopping = server == null ? Mono.empty() : server.shutdown(Duration.ofSeconds(5));
            if (sink != null) {
                stopping = stopping.then(sink.flush()).then(sink.closeGracefully());
            }
            stopping.then(source.closeGracefully()).block(Duration.ofSeconds(15));
            if (server != null) {
                console.err().println("extentflow nbd: stopped");
            }
        } catch (RuntimeException e) {
            console.err().println("extentflow nbd: stopping: " + Errors.message(e));
        }
    }
}
