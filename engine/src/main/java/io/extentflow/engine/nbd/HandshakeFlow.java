package io.extentflow.engine.nbd;

import io.extentflow.engine.nbd.message.NbdProtocol;
import io.extentflow.engine.nbd.message.reply.Greeting;
import io.extentflow.engine.nbd.message.reply.OptionReply;
import io.extentflow.engine.nbd.message.request.ClientFlags;
import io.extentflow.engine.nbd.message.request.OptionRequest;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * The client's side of the fixed newstyle handshake, as a flow of option exchanges over a
 * connection: answer the greeting, ask for extended headers (or else structured replies, which this
 * client needs), select the metadata contexts, then {@code NBD_OPT_GO} with the block sizes. What
 * the server answered becomes the {@link ExportInfo}.
 *
 * <p>The flow holds no connection state: it sends and receives through an {@link Exchange}, which
 * the connection implements ({@link OptionExchange}). One instance runs one handshake.
 */
final class HandshakeFlow {

    /** What the flow needs of a connection during the handshake. */
    interface Exchange {

        /** Emits the server's greeting (at once if it came already). */
        Mono<Greeting> greeting();

        /** Sends the client's answer to the greeting. */
        void send(ClientFlags flags);

        /** Sends an option and emits its replies, up to the final ACK or error. */
        Mono<List<OptionReply>> exchange(OptionRequest option);
    }

    /**
     * What the handshake agreed.
     *
     * @param info         the export as the server described it
     * @param contextNames the selected metadata contexts' names by the ids the server gave them
     */
    record Result(ExportInfo info, Map<Integer, String> contextNames) {
    }

    private final Exchange exchange;
    private final NbdAddress address;
    private final String endpoint;
    private final NbdClientOptions options;
    private final Map<Integer, String> contextNames = new HashMap<>();
    private boolean extended;

    private HandshakeFlow(Exchange exchange, NbdAddress address, NbdClientOptions options) {
        this.exchange = exchange;
        this.address = address;
        this.endpoint = address.toString();
        this.options = options;
    }

    /** Runs the handshake for {@code address}'s export over {@code exchange}. */
    static Mono<Result> run(Exchange exchange, NbdAddress address, NbdClientOptions options) {
        return Mono.defer(() -> new HandshakeFlow(exchange, address, options).run());
    }

    /** A failure to connect, e.g. a refused option. */
    static NbdException failure(String endpoint, String reason) {
        return new NbdException("connect", endpoint, 0, 0, reason, NbdException.NO_ERROR_VALUE, false, null);
    }

    private Mono<Result> run() {
        List<String> queries = new ArrayList<>();
        queries.add(NbdProtocol.CONTEXT_BASE_ALLOCATION);
        if (options.allocationDepth()) {
            queries.add(NbdProtocol.CONTEXT_ALLOCATION_DEPTH);
        }
        return exchange.greeting()
                .flatMap(g -> {
                    if (!g.fixedNewstyle()) {
                        return Mono.error(failure("the server does not support the fixed newstyle handshake"));
                    }
                    exchange.send(new ClientFlags(NbdProtocol.CLIENT_FIXED_NEWSTYLE
                            | (g.noZeroes() ? NbdProtocol.CLIENT_NO_ZEROES : 0)));
                    if (!options.extendedHeaders()) {
                        return Mono.just(List.<OptionReply>of());
                    }
                    return exchange.exchange(OptionRequest.of(NbdProtocol.OPT_EXTENDED_HEADERS));
                })
                .flatMap(replies -> {
                    // Extended headers imply structured replies; servers without them say ERR_UNSUP.
                    extended = !replies.isEmpty() && replies.get(replies.size() - 1).type() == NbdProtocol.REP_ACK;
                    return extended ? Mono.just(replies)
                            : exchange.exchange(OptionRequest.of(NbdProtocol.OPT_STRUCTURED_REPLY));
                })
                .flatMap(replies -> {
                    OptionReply last = replies.get(replies.size() - 1);
                    if (last.isError()) {
                        return Mono.error(failure("the server does not offer structured replies ("
                                + NbdProtocol.optionErrorName(last.type()) + "), which this client needs"));
                    }
                    return resolveNamespaces(options.metaContexts());
                })
                .flatMap(wanted -> {
                    queries.addAll(wanted);
                    return exchange.exchange(OptionRequest.setMetaContext(address.export(), queries));
                })
                .flatMap(replies -> {
                    for (OptionReply r : replies) {
                        if (r.type() == NbdProtocol.REP_META_CONTEXT && r.length() >= 4) {
                            ByteBuffer d = r.data();
                            int id = d.getInt();
                            contextNames.put(id, StandardCharsets.UTF_8.decode(d).toString());
                        }
                    }
                    // An error here only means no block status: everything will read as data.
                    return requireContexts(queries);
                })
                .flatMap(v -> exchange.exchange(OptionRequest.go(address.export(), NbdProtocol.INFO_BLOCK_SIZE)))
                .flatMap(this::acceptGo);
    }

    /**
     * The contexts to select: each one asked for by name as it is, and each namespace alone (such as
     * {@code qemu:dirty-bitmap:}) replaced by the one context the export lists in it; fails when it
     * lists none or several.
     */
    private Mono<List<String>> resolveNamespaces(List<String> wanted) {
        List<String> resolved = new ArrayList<>();
        Mono<List<String>> chain = Mono.just(resolved);
        for (String w : wanted) {
            if (!w.endsWith(":")) {
                chain = chain.doOnNext(l -> l.add(w));
                continue;
            }
            chain = chain.flatMap(l -> listContexts(w).flatMap(listed -> {
                if (listed.size() != 1) {
                    String which = listed.isEmpty() ? "none" : String.join(", ", listed);
                    return Mono.error(failure("the export '" + address.export() + "' should list exactly one "
                            + "context in " + w + " to use without naming it, and lists " + listed.size() + " ("
                            + which + ")"));
                }
                l.add(w + listed.get(0));
                return Mono.just(l);
            }));
        }
        return chain;
    }

    /** The names in {@code namespace} that the export lists (NBD_OPT_LIST_META_CONTEXT). */
    private Mono<List<String>> listContexts(String namespace) {
        return exchange.exchange(OptionRequest.listMetaContext(address.export(), List.of(namespace)))
                .map(replies -> {
                    List<String> listed = new ArrayList<>();
                    for (OptionReply r : replies) {
                        if (r.type() == NbdProtocol.REP_META_CONTEXT && r.length() >= 4) {
                            ByteBuffer d = r.data();
                            d.getInt();
                            String name = StandardCharsets.UTF_8.decode(d).toString();
                            listed.add(name.startsWith(namespace) ? name.substring(namespace.length()) : name);
                        }
                    }
                    return listed;
                });
    }

    /**
     * Fails when the server did not select a context the caller asked for by name, saying which ones
     * of that namespace the export lists (e.g. its dirty bitmaps).
     */
    private Mono<Boolean> requireContexts(List<String> queries) {
        for (String wanted : queries.subList(queries.size() - options.metaContexts().size(), queries.size())) {
            if (contextNames.containsValue(wanted)) {
                continue;
            }
            int colon = wanted.lastIndexOf(':');
            String namespace = wanted.substring(0, colon + 1);
            return listContexts(namespace)
                    .flatMap(listed -> {
                        String what = namespace.equals(NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX)
                                ? "dirty bitmap '" + wanted.substring(namespace.length()) + "'"
                                : "metadata context '" + wanted + "'";
                        String has = listed.isEmpty() ? "it lists none"
                                : "it lists: " + String.join(", ", listed);
                        return Mono.error(failure("the export '" + address.export() + "' has no " + what + " ("
                                + has + ")"));
                    });
        }
        return Mono.just(true);
    }

    private Mono<Result> acceptGo(List<OptionReply> replies) {
        OptionReply last = replies.get(replies.size() - 1);
        if (last.isError()) {
            String text = last.text().isBlank() ? "" : ": " + last.text();
            String what = last.type() == NbdProtocol.REP_ERR_UNKNOWN
                    ? "the server has no export named '" + address.export() + "'"
                    : "the server refused the export: " + NbdProtocol.optionErrorName(last.type());
            return Mono.error(failure(what + text));
        }
        long size = -1;
        int flags = 0;
        int min = ExportInfo.DEFAULT_MINIMUM_BLOCK;
        int preferred = ExportInfo.DEFAULT_PREFERRED_BLOCK;
        int max = ExportInfo.DEFAULT_MAXIMUM_PAYLOAD;
        for (OptionReply r : replies) {
            if (r.type() != NbdProtocol.REP_INFO || r.length() < 2) {
                continue;
            }
            ByteBuffer d = r.data();
            int infoType = d.getShort() & 0xffff;
            if (infoType == NbdProtocol.INFO_EXPORT && d.remaining() >= 10) {
                size = d.getLong();
                flags = d.getShort() & 0xffff;
            } else if (infoType == NbdProtocol.INFO_BLOCK_SIZE && d.remaining() >= 12) {
                min = d.getInt();
                preferred = d.getInt();
                max = d.getInt();
            }
        }
        if (size < 0) {
            return Mono.error(failure("the server sent no export size (NBD_INFO_EXPORT)"));
        }
        if (min <= 0 || Integer.bitCount(min) != 1 || min > 65536) {
            return Mono.error(failure("the server's minimum block size " + min + " is not a power of two <= 64 KiB"));
        }
        // 0xffffffff means "no limit": keep the portable 32 MiB. Otherwise obey it, in whole minimum blocks.
        long maxPayload = Integer.toUnsignedLong(max);
        int payload = maxPayload >= ExportInfo.DEFAULT_MAXIMUM_PAYLOAD || maxPayload < min
                ? ExportInfo.DEFAULT_MAXIMUM_PAYLOAD : (int) maxPayload;
        payload -= payload % min;
        ExportInfo info = new ExportInfo(address.export(), size, flags, min, Math.max(preferred, min), payload,
                List.copyOf(contextNames.values()), extended);
        return Mono.just(new Result(info, contextNames));
    }

    private NbdException failure(String reason) {
        return failure(endpoint, reason);
    }
}
