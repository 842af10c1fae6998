package io.extentflow.server.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.engine.imageio.ImageioJson;
import io.extentflow.engine.imageio.Ticket;
import io.netty.buffer.Unpooled;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.http.HttpMethod;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/**
 * {@code extentflow ticket add|show|extend|delete}: the control API of a running {@code extentflow
 * serve} (or ovirt-imageio daemon), like {@code ovirt-imageioctl}.
 */
public final class TicketCommand {

    private Path controlSocket;
    private int controlPort;

    /** The command line of {@code extentflow ticket} and its subcommands. */
    public static CommandSpec spec() {
        TicketCommand c = new TicketCommand();
        return CommandSpec.named("ticket", "Manage tickets of an image server through its control API.")
                .option("--control-socket", "PATH", "Unix socket of the control API.", null,
                        v -> c.controlSocket = Path.of(v))
                .option("--control-port", "PORT", "Loopback port of the control API.", "54324",
                        v -> c.controlPort = Integer.parseInt(v))
                .subcommand(new Add().spec(c))
                .subcommand(OneTicket.show(c))
                .subcommand(OneTicket.extend(c))
                .subcommand(OneTicket.delete(c));
    }

    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    /** Sends one request and prints the reply on the console; exit code 0 for 2xx, 1 otherwise. */
    int send(CommandSpec.Console console, HttpMethod method, String id, String body) {
        SocketAddress address = controlSocket != null ? new DomainSocketAddress(controlSocket.toString())
                : new InetSocketAddress("127.0.0.1", controlPort);
        // one request, one connection: a pooled one could be reused just as the server closes it
        HttpClient client = HttpClient.newConnection().remoteAddress(() -> address);
        var request = client.request(method).uri("/tickets/" + id);
        var sent = body == null ? request
                : request.send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8))));
        Map.Entry<Integer, String> reply = sent
                .responseSingle((resp, bytes) -> bytes.asString().defaultIfEmpty("")
                        .map(text -> Map.entry(resp.status().code(), text)))
                .onErrorMap(e -> noServer(e), e -> new java.io.IOException("no server at control "
                        + (controlSocket != null ? "socket " + controlSocket : "port 127.0.0.1:" + controlPort), e))
                .block(TIMEOUT);
        boolean ok = reply.getKey() / 100 == 2;
        String text = reply.getValue().strip();
        if (!text.isEmpty()) {
            (ok ? console.out() : console.err()).println(text);
        }
        if (!ok) {
            console.err().println("control API replied " + reply.getKey());
        }
        return ok ? 0 : 1;
    }

    /**
     * True for a control address where no one listens: a socket file that is not there (Netty
     * says only "FileNotFoundException"), or a refused connection (a stale socket file, a free port).
     */
    private static boolean noServer(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof java.io.FileNotFoundException || c instanceof java.net.ConnectException) {
                return true;
            }
        }
        return false;
    }

    /** {@code ticket add}: adds or replaces a ticket and prints its id. */
    private static final class Add {
        private String id;
        private String url;
        private long size;
        private final List<String> ops = new ArrayList<>();
        private long timeout;
        private long inactivityTimeout;
        private boolean sparse;
        private boolean dirty;
        private String dirtyBitmap;

        CommandSpec spec(TicketCommand parent) {
            return CommandSpec.named("add", "Add or replace a ticket.")
                    .option("--id", "ID", "Ticket id (default: a random UUID).", null, v -> id = v)
                    .requiredOption("--url", "ADDRESS", "Image address: a path, file://, nbd://, ...", v -> url = v)
                    .requiredOption("--size", "BYTES", "Bytes accessible through the ticket.",
                            v -> size = Long.parseLong(v))
                    .option("--ops", "OPS", "read and/or write, separated by commas.", "read",
                            v -> ops.addAll(List.of(v.split(","))))
                    .option("--timeout", "SECONDS", "Seconds until the ticket expires.", "3600",
                            v -> timeout = Long.parseLong(v))
                    .option("--inactivity-timeout", "SECONDS", "Seconds without requests until the ticket "
                            + "expires.", "60", v -> inactivityTimeout = Long.parseLong(v))
                    .flag("--sparse", "Zeroing may deallocate.", () -> sparse = true)
                    .flag("--dirty", "Serve the image's dirty extents (GET .../extents?context=dirty) from its "
                            + "only dirty bitmap, or the one --dirty-bitmap names.", () -> dirty = true)
                    .option("--dirty-bitmap", "NAME", "The dirty bitmap of a --dirty ticket: a persistent bitmap "
                            + "of a local qcow2 image, or qemu:dirty-bitmap:NAME of an NBD export.", null,
                            v -> dirtyBitmap = v)
                    .action(console -> {
                        String ticketId = id != null ? id : UUID.randomUUID().toString();
                        Ticket t = new Ticket(ticketId, size, url, new LinkedHashSet<>(ops), timeout,
                                inactivityTimeout, sparse, ticketId, null, dirty || dirtyBitmap != null, dirtyBitmap);
                        int rc = parent.send(console, HttpMethod.PUT, ticketId,
                                new String(ImageioJson.toBytes(t.toJson()), StandardCharsets.UTF_8));
                        if (rc == 0) {
                            console.out().println(ticketId);
                        }
                        return rc;
                    });
        }
    }

    /** {@code ticket show|delete ID} and {@code ticket extend ID --timeout N}: one request about one ticket. */
    private static final class OneTicket {
        private String id;
        private long timeout;

        static CommandSpec show(TicketCommand parent) {
            OneTicket c = new OneTicket();
            return c.named("show", "Print a ticket's state as JSON.")
                    .action(console -> parent.send(console, HttpMethod.GET, c.id, null));
        }

        static CommandSpec extend(TicketCommand parent) {
            OneTicket c = new OneTicket();
            return c.named("extend", "Set a ticket to expire in N seconds.")
                    .requiredOption("--timeout", "SECONDS", "Seconds from now.", v -> c.timeout = Long.parseLong(v))
                    .action(console -> parent.send(console, HttpMethod.PATCH, c.id, "{\"timeout\": " + c.timeout + "}"));
        }

        static CommandSpec delete(TicketCommand parent) {
            OneTicket c = new OneTicket();
            return c.named("delete", "Cancel a ticket: running transfers stop, new requests are refused.")
                    .action(console -> parent.send(console, HttpMethod.DELETE, c.id, null));
        }

        private CommandSpec named(String name, String description) {
            return CommandSpec.named(name, description).parameter("ID", "Ticket id.", v -> id = v);
        }
    }
}
