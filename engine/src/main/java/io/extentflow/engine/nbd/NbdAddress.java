package io.extentflow.engine.nbd;

import io.netty.channel.unix.DomainSocketAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where an NBD export lives, parsed from an NBD URI (the NBD project's {@code uri.md} standard):
 * {@code nbd://host[:port][/export]} over TCP (port 10809 by default) or
 * {@code nbd+unix:///export?socket=/path/to/socket} over a Unix domain socket. The export name is the
 * URI path without its leading slash, percent-decoded; empty means the server's default export.
 * TLS ({@code nbds://}, {@code nbds+unix://}) is not supported and is refused with a clear error.
 *
 * @param host   TCP host, or null for a Unix socket
 * @param port   TCP port, or 0 for a Unix socket
 * @param socket Unix socket path, or null for TCP
 * @param export export name, possibly empty
 */
public record NbdAddress(String host, int port, Path socket, String export) {

    public static final int DEFAULT_PORT = 10809;

    public NbdAddress {
        Objects.requireNonNull(export, "export");
        if ((host == null) == (socket == null)) {
            throw new IllegalArgumentException("an NBD address has either a host or a socket");
        }
    }

    /** A TCP address. */
    public static NbdAddress tcp(String host, int port, String export) {
        return new NbdAddress(host, port, null, export);
    }

    /** A Unix domain socket address. */
    public static NbdAddress unix(Path socket, String export) {
        return new NbdAddress(null, 0, socket, export);
    }

    /** True if {@code address} is an NBD URI (with or without TLS), so it belongs to the NBD endpoints. */
    public static boolean isNbd(String address) {
        return address.startsWith("nbd://") || address.startsWith("nbd+unix://")
                || address.startsWith("nbds://") || address.startsWith("nbds+unix://");
    }

    /**
     * Parses an NBD URI.
     *
     * @throws IllegalArgumentException naming the address and what is wrong with it
     */
    public static NbdAddress parse(String address) {
        URI uri;
        try {
            uri = new URI(address);
        } catch (URISyntaxException e) {
            throw bad(address, e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme();
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        String export = decode(path.startsWith("/") ? path.substring(1) : path);
        switch (scheme) {
            case "nbd" -> {
                if (uri.getHost() == null) {
                    throw bad(address, "no host (expected nbd://host[:port]/export)");
                }
                String host = uri.getHost();
                if (host.startsWith("[") && host.endsWith("]")) {
                    host = host.substring(1, host.length() - 1);
                }
                return tcp(host, uri.getPort() < 0 ? DEFAULT_PORT : uri.getPort(), export);
            }
            case "nbd+unix" -> {
                if (uri.getRawAuthority() != null && !uri.getRawAuthority().isEmpty()) {
                    throw bad(address, "a Unix socket URI has no host (expected nbd+unix:///export?socket=PATH)");
                }
                String socket = queryParameter(uri.getRawQuery(), "socket");
                if (socket == null || socket.isEmpty()) {
                    throw bad(address, "no socket parameter (expected nbd+unix:///export?socket=PATH)");
                }
                return unix(Path.of(socket), export);
            }
            case "nbds", "nbds+unix" -> throw bad(address, "NBD over TLS is not supported");
            default -> throw bad(address, "not an NBD URI (expected nbd:// or nbd+unix://)");
        }
    }

    private static String queryParameter(String rawQuery, String name) {
        if (rawQuery == null) {
            return null;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            if (key.equals(name)) {
                return eq < 0 ? "" : decode(pair.substring(eq + 1));
            }
        }
        return null;
    }

    private static String decode(String s) {
        // URLDecoder turns '+' into a space; in a URI path and in socket paths '+' is a plus.
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static IllegalArgumentException bad(String address, String why) {
        return new IllegalArgumentException("bad NBD address '" + address + "': " + why);
    }

    /** The Netty address to connect to. */
    public SocketAddress socketAddress() {
        return socket != null ? new DomainSocketAddress(socket.toString())
                : InetSocketAddress.createUnresolved(host, port);
    }

    /** True for a Unix domain socket. */
    public boolean isUnix() {
        return socket != null;
    }

    /** The canonical URI, e.g. {@code nbd+unix:///disk?socket=/run/nbd.sock}. */
    @Override
    public String toString() {
        String exportPart = "/" + encodePath(export);
        if (socket != null) {
            return "nbd+unix://" + exportPart + "?socket=" + socket;
        }
        String h = host.contains(":") ? "[" + host + "]" : host;
        return "nbd://" + h + (port == DEFAULT_PORT ? "" : ":" + port) + exportPart;
    }

    private static String encodePath(String s) {
        StringBuilder b = new StringBuilder();
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            int u = c & 0xff;
            if (Character.isLetterOrDigit(u) && u < 128 || "-._~/:@!$&'()*+,;=".indexOf(u) >= 0) {
                b.append((char) u);
            } else {
                b.append('%').append(String.format("%02X", u));
            }
        }
        return b.toString();
    }
}
