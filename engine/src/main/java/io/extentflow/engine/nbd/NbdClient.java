package io.extentflow.engine.nbd;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.io.RetryPolicy;
import io.extentflow.engine.io.ZeroBuffer;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A client of one NBD export, on Reactor Netty, over TCP or a Unix domain socket.
 *
 * <pre>{@code
 * NbdClient c = NbdClient.connect(NbdAddress.parse("nbd+unix:///disk?socket=/run/nbd.sock"),
 *         NbdClientOptions.defaults()).block();
 * c.read(0, buffer).then(c.flush()) ...
 * c.close();
 * }</pre>
 *
 * <p>What it does for the caller:
 * <ul>
 *   <li>Handshake: fixed newstyle, structured replies, {@code base:allocation} (and
 *       {@code qemu:allocation-depth} when offered), {@code NBD_OPT_GO} with block size information,
 *       which it then obeys: requests are split at the server's maximum payload and offsets must be
 *       multiples of its minimum block. Extended headers (64-bit lengths) are used when the server
 *       offers them; qemu 7.2 and nbdkit 1.32 do not, and the client falls back to compact ones.</li>
 *   <li>Several connections ({@link NbdClientOptions#connections()}) when the server sets
 *       CAN_MULTI_CONN, one otherwise; each request goes to the least loaded connection; each
 *       connection keeps up to {@link NbdClientOptions#requestsPerConnection()} requests in flight.</li>
 *   <li>Reads, writes and zero requests that fail transiently (connection lost or reset, EIO,
 *       ESHUTDOWN) are sent again after a backoff, on a fresh connection (a connection that answered
 *       with a transient error finishes what it has in flight and is replaced), a bounded number of
 *       times. Any other failure, and a request without reply within the timeout, fails at
 *       once with an {@link NbdException} naming the export, operation, offset and NBD error.</li>
 * </ul>
 * Buffers passed in are borrowed until the returned {@code Mono} terminates. Never TRIMs.
 */
public final class NbdClient implements AutoCloseable {

    /**
     * The data request size copies to and from NBD use unless told otherwise. Servers allocate a
     * buffer per request, and qemu-nbd gets large ones from glibc as fresh pages from the kernel,
     * spending its CPU faulting them in and zeroing them: sparse-8g.raw from a fresh qemu-nbd took
     * 7.5 s with 1 MiB requests, 3.6 s with 512 KiB and 3.75 s with 256 KiB (4 MiB: 5-7 s); nbdkit
     * sparse-random 8G 1.52 s with 1 MiB, 1.61 s with 512 KiB, 2.45 s with 4 MiB (perf/README.md,
     * "Request size").
     */
    public static final int PREFERRED_REQUEST_SIZE = 512 << 10;

    /**
     * The data request size copies to NBD targets use unless told otherwise. Writing, servers spend
     * their time storing the data (a fresh {@code nbdkit memory} export faults in and fills new pages
     * for every byte, whatever the request size), and larger requests cost them fewer receives and
     * buffers: alternated rounds of sparse-8g.raw into a fresh nbdkit memory export took a median of
     * 8.01 s with 512 KiB requests and 7.81 s with 1 MiB (12 rounds; 2 MiB was no better), into a
     * fresh qemu-nbd 7.11 s and 6.84 s (5 rounds; perf/README.md, "Writing to NBD").
     */
    public static final int PREFERRED_WRITE_SIZE = 1 << 20;

    /** Largest WRITE_ZEROES request: cheap for servers, and a multiple of any minimum block size. */
    public static final long MAX_ZERO_REQUEST = 1L << 30;
    /**
     * Largest BLOCK_STATUS request of {@link #blockStatus}: servers answer the whole range asked for
     * in one reply (nbdkit does), so this bounds the descriptors held at once. A fragmented export
     * with an extent every 4 KiB (nbdkit sparse-random runlength=1000) has 65,536 of them per 256 MiB,
     * where a 2 GiB request made half a million and a map of it ran out of a 32 MiB heap. Copies ask
     * for their 256 MiB windows anyway ({@code NbdSource}).
     */
    public static final long MAX_STATUS_REQUEST = 256L << 20;
    /**
     * Largest BLOCK_STATUS request of {@link #map}, which starts at {@link #MAX_STATUS_REQUEST} and
     * doubles its requests while the answers are short ({@link #FEW_DESCRIPTORS} or fewer), halving
     * them again after a long one: an empty 1 TiB export is mapped in about 520 round trips instead
     * of 4096, and a fragmented one still in 256 MiB requests.
     */
    static final long MAX_MAP_REQUEST = 2L << 30;
    /** An answer this short lets {@link #map}'s next request double. */
    static final int FEW_DESCRIPTORS = 1024;
    private static final ByteBuffer ZEROS = ZeroBuffer.of(1 << 20);
    /** How long an additional connection may take to complete its handshake before it is given up. */
    static final Duration EXTRA_CONNECTION_TIMEOUT = Duration.ofSeconds(2);

    private final NbdAddress address;
    private final NbdClientOptions options;
    private final ExportInfo info;
    private final List<Slot> slots;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final RetryPolicy retries;

    private NbdClient(NbdAddress address, NbdClientOptions options, ExportInfo info, List<NbdConnection> connections) {
        this.address = address;
        this.options = options;
        this.retries = options.retryPolicy();
        this.info = info;
        List<Slot> s = new ArrayList<>();
        for (NbdConnection c : connections) {
            s.add(new Slot(c));
        }
        this.slots = List.copyOf(s);
    }

    /**
     * Connects to {@code address}: one connection, then more if the server allows several. A refused
     * connection (a server restarting) is tried again as a failed request is
     * ({@link NbdClientOptions#retryPolicy()}); any other failure to connect (no such socket, no
     * such host, a failed handshake) is final.
     */
    public static Mono<NbdClient> connect(NbdAddress address, NbdClientOptions options) {
        Mono<NbdConnection> first = options.retries() == 0 ? NbdConnection.open(address, options)
                : options.retryPolicy().run(() -> NbdConnection.open(address, options),
                        e -> refused(e) ? RetryPolicy.Verdict.RETRY : RetryPolicy.Verdict.FAIL, (e, n) -> { },
                        (e, attempts) -> ((NbdException) e).withReason(((NbdException) e).reason()
                                + " (after " + attempts + " attempts)"));
        return first.flatMap(c1 -> {
            ExportInfo info = c1.info();
            int n = info.canMultiConn() ? options.connections() : 1;
            List<NbdConnection> opened = Collections.synchronizedList(new ArrayList<>(List.of(c1)));
            // More connections are a bonus: a server may allow fewer clients than it advertises
            // multi-conn for (qemu-nbd -e 2 accepts two and leaves the rest waiting), so the extra
            // ones get a short handshake timeout and the client runs with those that made it.
            Duration extraTimeout = options.timeout().compareTo(EXTRA_CONNECTION_TIMEOUT) < 0
                    ? options.timeout() : EXTRA_CONNECTION_TIMEOUT;
            return Flux.range(1, n - 1)
                    .flatMap(i -> NbdConnection.open(address, options, extraTimeout)
                            .onErrorResume(e -> Mono.empty()))
                    .doOnNext(opened::add)
                    .then(Mono.fromCallable(() -> {
                        for (NbdConnection c : opened) {
                            checkSame(address, info, c.info());
                        }
                        return new NbdClient(address, options, info, List.copyOf(opened));
                    }))
                    .doOnError(e -> opened.forEach(c -> c.close().subscribe()))
                    .doOnCancel(() -> opened.forEach(c -> c.close().subscribe()));
        });
    }

    /** True for a connection the server's address refused: nothing listens there, perhaps not yet. */
    private static boolean refused(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.net.ConnectException) {
                return true;
            }
        }
        return false;
    }

    /** Connects to an NBD URI with {@link NbdClientOptions#defaults()}. */
    public static Mono<NbdClient> connect(String uri) {
        return Mono.fromCallable(() -> NbdAddress.parse(uri)).flatMap(a -> connect(a, NbdClientOptions.defaults()));
    }

    private static void checkSame(NbdAddress address, ExportInfo expected, ExportInfo actual) {
        if (actual.size() != expected.size() || actual.flags() != expected.flags()) {
            throw new NbdException("connect", address.toString(), 0, 0, "the export changed between connections (size "
                    + expected.size() + " -> " + actual.size() + ")", NbdException.NO_ERROR_VALUE, false, null);
        }
    }

    /** What the server said about the export. */
    public ExportInfo info() {
        return info;
    }

    /** The export's address. */
    public NbdAddress address() {
        return address;
    }

    /** Export size in bytes. */
    public long size() {
        return info.size();
    }

    /** Connections in use: more than one only with CAN_MULTI_CONN. */
    public int connections() {
        return slots.size();
    }

    /**
     * Read data the current connections copied from receive buffers into targets; data received
     * straight into direct targets is not counted. Shows whether reads are received in place.
     */
    long payloadBytesCopied() {
        long n = 0;
        for (Slot s : slots) {
            NbdConnection c = s.current;
            if (c != null) {
                n += c.payloadBytesCopied();
            }
        }
        return n;
    }

    /** Connections currently open: 0 after {@link #closeGracefully()} completes. */
    public int openConnections() {
        int n = 0;
        for (Slot s : slots) {
            NbdConnection c = s.current;
            if (c != null && c.isActive()) {
                n++;
            }
        }
        return n;
    }

    /**
     * Fills {@code target} (its remaining bytes) from {@code offset}, advancing its position to its
     * limit. A direct target receives the data straight from the socket, without a copy; once the
     * returned {@code Mono} is cancelled nothing writes into the target any more, so it may be reused.
     */
    public Mono<Void> read(long offset, ByteBuffer target) {
        int length = target.remaining();
        return split("read", offset, length, (off, rel, n) -> {
            ByteBuffer slice = target.slice(target.position() + rel, n);
            return call("read", off, n, true, c -> c.submit(NbdProtocol.CMD_READ, 0, off, n, slice));
        }).then(Mono.fromRunnable(() -> target.position(target.limit())));
    }

    /**
     * Writes {@code data} (its remaining bytes) at {@code offset}, advancing its position to its limit.
     * The bytes go to the socket without a copy: if the returned {@code Mono} is cancelled while they
     * are being sent, the buffer may still be read for a moment, so a cancelled write's buffer should
     * not be refilled for another write of the same export.
     */
    public Mono<Void> write(long offset, ByteBuffer data) {
        int length = data.remaining();
        if (info.readOnly()) {
            return Mono.error(readOnly("write", offset, length));
        }
        return split("write", offset, length, (off, rel, n) -> {
            ByteBuffer slice = data.slice(data.position() + rel, n);
            return call("write", off, n, true, c -> c.submit(NbdProtocol.CMD_WRITE, 0, off, n, slice));
        }).then(Mono.fromRunnable(() -> data.position(data.limit())));
    }

    /**
     * Makes {@code [offset, offset + length)} read as zeros with WRITE_ZEROES, or by writing zeros when
     * the server cannot. Never TRIM.
     *
     * @param noHole   keep the range allocated (NBD_CMD_FLAG_NO_HOLE)
     * @param fastZero fail at once with ENOTSUP unless the server can zero faster than writing
     *                 (NBD_CMD_FLAG_FAST_ZERO); also fails with ENOTSUP when the server does not offer it
     */
    public Mono<Void> writeZeroes(long offset, long length, boolean noHole, boolean fastZero) {
        if (info.readOnly()) {
            return Mono.error(readOnly("zero", offset, length));
        }
        Mono<Void> bad = checkRange("zero", offset, length);
        if (bad != null) {
            return bad;
        }
        if (fastZero && !info.canFastZero()) {
            return Mono.error(new NbdException("zero", address.toString(), offset, length,
                    "the server does not offer fast zero", NbdProtocol.ENOTSUP, false, null));
        }
        if (!info.canWriteZeroes()) {
            return writeZerosAsData(offset, length);
        }
        int flags = (noHole ? NbdProtocol.CMD_FLAG_NO_HOLE : 0) | (fastZero ? NbdProtocol.CMD_FLAG_FAST_ZERO : 0);
        List<long[]> pieces = pieces(offset, length, MAX_ZERO_REQUEST);
        return Flux.fromIterable(pieces)
                .flatMap(p -> call("zero", p[0], p[1], true,
                        c -> c.submit(NbdProtocol.CMD_WRITE_ZEROES, flags, p[0], p[1], null)), 16)
                .then();
    }

    private Mono<Void> writeZerosAsData(long offset, long length) {
        long step = Math.min(ZEROS.capacity(), info.maximumPayload());
        return Flux.fromIterable(pieces(offset, length, step))
                .flatMap(p -> {
                    ByteBuffer z = ZEROS.slice(0, (int) p[1]);
                    return call("zero", p[0], p[1], true, c -> c.submit(NbdProtocol.CMD_WRITE, 0, p[0], p[1], z));
                }, 8)
                .then();
    }

    /**
     * Makes completed writes durable (NBD_CMD_FLUSH on one connection: with CAN_MULTI_CONN it covers
     * all of them). Does nothing when the server offers no flush.
     */
    public Mono<Void> flush() {
        if (!info.canFlush()) {
            return Mono.empty();
        }
        return call("flush", 0, 0, true, c -> c.submit(NbdProtocol.CMD_FLUSH, 0, 0, 0, null)).then();
    }

    /**
     * The block status of a prefix of {@code [offset, offset + length)} for every selected context:
     * descriptors start at {@code offset}, may cover less than asked (ask again from where they end)
     * or run past it. Fails when the server selected no context.
     */
    public Mono<Map<String, List<NbdExtent>>> blockStatus(long offset, long length) {
        return blockStatus(offset, length, MAX_STATUS_REQUEST);
    }

    @SuppressWarnings("unchecked")
    private Mono<Map<String, List<NbdExtent>>> blockStatus(long offset, long length, long cap) {
        if (info.contexts().isEmpty()) {
            return Mono.error(new NbdException("extents", address.toString(), offset, length,
                    "the server offers no block status (base:allocation)", NbdException.NO_ERROR_VALUE, false,
                    null));
        }
        Mono<Void> bad = checkOffset("extents", offset, length);
        if (bad != null) {
            return bad.then(Mono.empty());
        }
        long asked = Math.min(Math.min(length, cap), info.size() - offset);
        long min = info.minimumBlock();
        if (asked % min != 0 && offset + asked < info.size()) {
            asked += min - asked % min;
        }
        long n = asked;
        return call("extents", offset, n, true, c -> c.submit(NbdProtocol.CMD_BLOCK_STATUS, 0, offset, n, null))
                .map(o -> (Map<String, List<NbdExtent>>) o);
    }

    /**
     * Every descriptor of {@code context} over {@code [start, start + length)}, as the server sent them
     * but cut at the range's end (merge adjacent ones of equal status to undo the cuts between
     * answers): what {@code nbdinfo --map} walks. The range is asked for one request after another,
     * each from where the last answer ended, in requests that grow while the answers are short (see
     * {@link #MAX_MAP_REQUEST}); one answer's descriptors are held at a time.
     */
    public Flux<NbdExtent> map(String context, long start, long length) {
        if (!info.hasContext(context)) {
            return Flux.error(new NbdException("extents", address.toString(), start, length,
                    "the server did not select context " + context, NbdException.NO_ERROR_VALUE, false, null));
        }
        Mono<Void> bad = checkOffset("extents", start, length);
        if (bad != null) {
            return bad.thenMany(Flux.empty());
        }
        if (length == 0) {
            return Flux.empty();
        }
        long end = start + length;
        return mapStep(context, start, end, MAX_STATUS_REQUEST)
                .expand(step -> step.reached() < end ? mapStep(context, step.reached(), end, step.next())
                        : Mono.empty())
                .concatMapIterable(MapStep::extents);
    }

    /** One answer of {@link #map}: its descriptors (cut at the end), where it reached, the next request's size. */
    private record MapStep(List<NbdExtent> extents, long reached, long next) {
    }

    private Mono<MapStep> mapStep(String context, long from, long end, long request) {
        return blockStatus(from, end - from, request).map(m -> {
            List<NbdExtent> l = m.get(context);
            NbdExtent last = l.get(l.size() - 1);
            long next = l.size() <= FEW_DESCRIPTORS ? Math.min(MAX_MAP_REQUEST, request * 2)
                    : l.size() > 16 * FEW_DESCRIPTORS ? Math.max(MAX_STATUS_REQUEST, request / 2) : request;
            if (last.end() <= end) {
                return new MapStep(l, last.end(), next);
            }
            List<NbdExtent> cut = new ArrayList<>(l.size());
            for (NbdExtent e : l) {
                if (e.offset() < end) {
                    cut.add(e.end() > end ? new NbdExtent(e.offset(), end - e.offset(), e.flags()) : e);
                }
            }
            return new MapStep(cut, end, next);
        });
    }

    // ---------------------------------------------------------------- plumbing

    @FunctionalInterface
    private interface PieceCall {
        Mono<Object> call(long offset, int relative, int length);
    }

    /** Splits a read or write at the server's maximum payload and runs the pieces concurrently. */
    private Mono<Void> split(String op, long offset, int length, PieceCall call) {
        Mono<Void> bad = checkRange(op, offset, length);
        if (bad != null) {
            return bad;
        }
        if (length == 0) {
            return Mono.empty();
        }
        List<long[]> pieces = pieces(offset, length, info.maximumPayload());
        if (pieces.size() == 1) {
            return call.call(offset, 0, length).then();
        }
        return Flux.fromIterable(pieces)
                .flatMap(p -> call.call(p[0], (int) (p[0] - offset), (int) p[1]), pieces.size())
                .then();
    }

    private static List<long[]> pieces(long offset, long length, long step) {
        List<long[]> out = new ArrayList<>();
        for (long at = offset; at < offset + length; at += step) {
            out.add(new long[] {at, Math.min(step, offset + length - at)});
        }
        return out;
    }

    private Mono<Void> checkRange(String op, long offset, long length) {
        Mono<Void> bad = checkOffset(op, offset, length);
        if (bad != null) {
            return bad;
        }
        long min = info.minimumBlock();
        if (length % min != 0 && offset + length != info.size()) {
            return Mono.error(new NbdException(op, address.toString(), offset, length, "length is not a multiple of "
                    + "the server's minimum block size " + min, NbdException.NO_ERROR_VALUE, false, null));
        }
        return null;
    }

    private Mono<Void> checkOffset(String op, long offset, long length) {
        if (closed.get()) {
            return Mono.error(new NbdException(op, address.toString(), offset, length, "the client is closed",
                    NbdException.NO_ERROR_VALUE, false, null));
        }
        if (!ImageIoException.fits(offset, length, info.size())) {
            return Mono.error(new NbdException(op, address.toString(), offset, length,
                    "range is outside the export (size " + info.size() + ")", NbdException.NO_ERROR_VALUE, false,
                    null));
        }
        if (offset % info.minimumBlock() != 0) {
            return Mono.error(new NbdException(op, address.toString(), offset, length, "offset is not a multiple of "
                    + "the server's minimum block size " + info.minimumBlock(), NbdException.NO_ERROR_VALUE, false,
                    null));
        }
        return null;
    }

    private NbdException readOnly(String op, long offset, long length) {
        return new NbdException(op, address.toString(), offset, length, "the export is read-only",
                NbdProtocol.EPERM, false, null);
    }

    /** Runs one request on the least loaded connection, retrying transient failures if allowed. */
    private <T> Mono<T> call(String op, long offset, long length, boolean retry, Function<NbdConnection, Mono<T>> f) {
        Supplier<Mono<T>> once = () -> Mono.defer(this::pick)
                .onErrorMap(NbdException.class, e -> e.forRequest(op, offset, length))
                .flatMap(c -> retry ? f.apply(c).doOnError(NbdException.class, e -> {
                    if (e.isTransient()) {
                        c.retire();
                    }
                }) : f.apply(c));
        if (!retry || options.retries() == 0) {
            return once.get();
        }
        return retries.run(once, this::verdict, (e, n) -> { },
                (e, attempts) -> new NbdException(op, address.toString(), offset, length, ((NbdException) e).reason()
                        + " (after " + attempts + " attempts)", ((NbdException) e).error(), false, e));
    }

    /**
     * A transient failure retires its connection, so the retry goes out on a fresh one after the
     * backoff. A request its connection never sent (it was retired or lost on the way,
     * {@link UnsentRequestException}) goes out again at once, without using up a retry.
     */
    private RetryPolicy.Verdict verdict(Throwable t) {
        if (!(t instanceof NbdException e) || !e.isTransient() || closed.get()) {
            return RetryPolicy.Verdict.FAIL;
        }
        return e instanceof UnsentRequestException ? RetryPolicy.Verdict.RESEND : RetryPolicy.Verdict.RETRY;
    }

    /**
     * The connection with the fewest requests; a dead one counts as idle, so the request that picks
     * it opens a fresh connection in its place.
     */
    private Mono<NbdConnection> pick() {
        Slot best = null;
        int bestLoad = Integer.MAX_VALUE;
        for (Slot s : slots) {
            NbdConnection c = s.current;
            int load = c != null && c.isOpen() && !c.isRetired() ? c.load() : 0;
            if (load < bestLoad) {
                best = s;
                bestLoad = load;
            }
        }
        return best.get();
    }

    /** Closes every connection, politely (NBD_CMD_DISC) when nothing is in flight. Does not block. */
    @Override
    public void close() {
        closeGracefully().subscribe(v -> { }, e -> { });
    }

    /** Like {@link #close()}, completing when every connection is closed. */
    public Mono<Void> closeGracefully() {
        if (!closed.compareAndSet(false, true)) {
            return Flux.fromIterable(slots).flatMap(s -> s.current == null ? Mono.empty() : s.current.close()).then();
        }
        return Flux.fromIterable(slots).flatMap(Slot::disconnect).then();
    }

    /** One connection position; a failed connection is replaced on the next request. */
    private final class Slot {
        volatile NbdConnection current;
        private Mono<NbdConnection> reconnecting;

        Slot(NbdConnection c) {
            this.current = c;
        }

        Mono<NbdConnection> get() {
            NbdConnection c = current;
            if (c != null && c.isOpen() && !c.isRetired()) {
                return Mono.just(c);
            }
            synchronized (this) {
                if (reconnecting == null) {
                    reconnecting = NbdConnection.open(address, options)
                            .doOnNext(nc -> {
                                checkSame(address, info, nc.info());
                                current = nc;
                                if (closed.get()) {
                                    nc.close().subscribe();
                                }
                            })
                            .doFinally(s -> {
                                synchronized (Slot.this) {
                                    reconnecting = null;
                                }
                            })
                            .cache();
                }
                return reconnecting;
            }
        }

        Mono<Void> disconnect() {
            NbdConnection c = current;
            return c == null ? Mono.empty() : c.disconnect();
        }
    }
}
