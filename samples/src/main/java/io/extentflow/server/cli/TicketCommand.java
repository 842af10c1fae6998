package io.extentflow.server.cli;

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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;

/**
 * {@code extentflow ticket add|show|extend|delete}: the control API of a running {@code extentflow
 * serve} (or ovirt-imageio daemon), like {@code ovirt-imageioctl}.
 */
@Command(name = "ticket", mixinStandardHelpOptions = true,
        description = "Manage tickets of an image server through its control API.",
        subcommands = {TicketCommand.Add.class, TicketCommand.Show.class, TicketCommand.Extend.class,
            TicketCommand.Delete.class})
public final class TicketCommand {

    @Option(names = "--control-socket", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Unix socket of the control API.")
    Path controlSocket;

    @Option(names = "--control-port", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Loopback port of the control API (default: ${DEFAULT-VALUE}).", defaultValue = "54324")
    int controlPort;

    private static final Duration TIMEOUT = Duration.ofSeconds(90);

    /** Sends one request and prints the reply; exit code 0 for 2xx, 1 otherwise. */
    int send(HttpMethod method, String id, String body) {
        SocketAddress address = controlSocket != null ? new DomainSocketAddress(controlSocket.toString())
                : new InetSocketAddress("127.0.0.1", controlPort);
        HttpClient client = HttpClient.create().remoteAddress(() -> address);
        var request = client.request(method).uri("/tickets/" + id);
        var sent = body == null ? request
                : request.send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8))));
        Map.Entry<Integer, String> reply = sent
                .responseSingle((resp, bytes) -> bytes.asString().defaultIfEmpty("")
                        .map(text -> Map.entry(resp.status().code(), text)))
                .block(TIMEOUT);
        boolean ok = reply.getKey() / 100 == 2;
        String text = reply.getValue().strip();
        if (!text.isEmpty()) {
            (ok ? System.out : System.err).println(text);
        }
        if (!ok) {
            System.err.println("control API replied " + reply.getKey());
        }
        return ok ? 0 : 1;
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Add or replace a ticket.")
    static final class Add implements Callable<Integer> {
        @ParentCommand
        TicketCommand parent;

        @Option(names = "--id", description = "Ticket id (default: a random UUID).")
        String id;

        @Option(names = "--url", required = true, description = "Image address: a path, file://, nbd://, ...")
        String url;

        @Option(names = "--size", required = true, description = "Bytes accessible through the ticket.")
        long size;

        @Option(names = "--ops", split = ",", defaultValue = "read", description = "read and/or write "
                + "(default: ${DEFAULT-VALUE}).")
        List<String> ops;

        @Option(names = "--timeout", defaultValue = "3600", description = "Seconds (default: ${DEFAULT-VALUE}).")
        long timeout;

        @Option(names = "--inactivity-timeout", defaultValue = "60",
                description = "Seconds (default: ${DEFAULT-VALUE}).")
        long inactivityTimeout;

        @Option(names = "--sparse", description = "Zeroing may deallocate.")
        boolean sparse;

        @Override
        public Integer call() {
            String ticketId = id != null ? id : UUID.randomUUID().toString();
            Ticket t = new Ticket(ticketId, size, url, new LinkedHashSet<>(ops), timeout, inactivityTimeout, sparse,
                    ticketId, null);
            int rc = parent.send(HttpMethod.PUT, ticketId,
                    new String(ImageioJson.toBytes(t.toJson()), StandardCharsets.UTF_8));
            if (rc == 0) {
                System.out.println(ticketId);
            }
            return rc;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print a ticket's state as JSON.")
    static final class Show implements Callable<Integer> {
        @ParentCommand
        TicketCommand parent;

        @Parameters(index = "0", description = "Ticket id.")
        String id;

        @Override
        public Integer call() {
            return parent.send(HttpMethod.GET, id, null);
        }
    }

    @Command(name = "extend", mixinStandardHelpOptions = true, description = "Set a ticket to expire in N seconds.")
    static final class Extend implements Callable<Integer> {
        @ParentCommand
        TicketCommand parent;

        @Parameters(index = "0", description = "Ticket id.")
        String id;

        @Option(names = "--timeout", required = true, description = "Seconds from now.")
        long timeout;

        @Override
        public Integer call() {
            return parent.send(HttpMethod.PATCH, id, "{\"timeout\": " + timeout + "}");
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Cancel a ticket: running transfers stop, new requests are refused.")
    static final class Delete implements Callable<Integer> {
        @ParentCommand
        TicketCommand parent;

        @Parameters(index = "0", description = "Ticket id.")
        String id;

        @Override
        public Integer call() {
            return parent.send(HttpMethod.DELETE, id, null);
        }
    }
}
