package io.extentflow.sources.nbd;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.AllocationDepth;
import io.extentflow.engine.capability.AllocationExtents;
import io.extentflow.engine.capability.Capabilities;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.capability.SourceCapability;
import io.extentflow.engine.extent.ExtentWindows;
import io.extentflow.engine.nbd.ExportInfo;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdClient;
import io.extentflow.engine.nbd.NbdClientOptions;
import io.extentflow.engine.nbd.NbdExtent;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An NBD export as a source. Its size comes from the handshake; its extents from BLOCK_STATUS,
 * window by window; its data from READ (holes in read replies are filled with zeros).
 *
 * <p>How block status becomes extents:
 * <ul>
 *   <li>{@code base:allocation}: 0 data; 1 (hole of unknown content) data; 2 zero; 3 hole (reads as
 *       zero).</li>
 *   <li>{@code qemu:allocation-depth}, when the server offers it: 0 (allocated nowhere) is a hole
 *       reading as zero; an allocated range reading as zeros is a zero extent (not a hole: it hides
 *       what lies below); with {@code topLayerOnly}, a depth of 2 or more (provided by a backing
 *       file) is a hole that is not zero, so a copy leaves the target alone there.</li>
 *   <li>No context at all (e.g. nbdkit's noextents filter): everything is data.</li>
 * </ul>
 * Replies that are short, hold one extent or run past the request are all fine: {@link ExtentWindows}
 * asks again from where an answer ended and clips.
 *
 * <p>Capabilities: {@link AllocationExtents}, the export's {@code base:allocation} as the server sends
 * it (what {@code nbdinfo --map} prints; it fails naming the context when the server did not select
 * it, as nbdinfo does), and {@link AllocationDepth} when the server selected
 * {@code qemu:allocation-depth}, and {@link DirtyExtents} when it was opened with a dirty bitmap
 * ({@code qemu:dirty-bitmap:NAME}, selected beside {@code base:allocation}; its descriptors come in the
 * same block status replies).
 */
public final class NbdSource implements ImageSource {

    /** Default bytes of image per block status window. */
    public static final long DEFAULT_WINDOW = 256L << 20;

    private final NbdClient client;
    private final boolean topLayerOnly;
    private final long window;
    private final Capabilities capabilities;

    /**
     * @param client       a connected client; the source owns it and closes it
     * @param topLayerOnly report ranges provided by backing files as holes without zero
     * @param window       bytes per block status window
     */
    public NbdSource(NbdClient client, boolean topLayerOnly, long window) {
        this.client = client;
        this.topLayerOnly = topLayerOnly;
        this.window = window;
        Capabilities offered = Capabilities.none().with(AllocationExtents.class,
                (start, length) -> client.map(NbdProtocol.CONTEXT_BASE_ALLOCATION, start, length));
        if (client.info().hasContext(NbdProtocol.CONTEXT_ALLOCATION_DEPTH)) {
            offered = offered.with(AllocationDepth.class,
                    (start, length) -> client.map(NbdProtocol.CONTEXT_ALLOCATION_DEPTH, start, length));
        }
        for (String context : client.info().contexts()) {
            if (context.startsWith(NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX)) {
                String name = context.substring(NbdProtocol.CONTEXT_DIRTY_BITMAP_PREFIX.length());
                offered = offered.with(DirtyExtents.class, new DirtyExtents() {
                    @Override
                    public String bitmap() {
                        return name;
                    }

                    @Override
                    public Flux<NbdExtent> map(long start, long length) {
                        return client.map(context, start, length);
                    }
                });
            }
        }
        this.capabilities = offered;
    }

    /** Connects to {@code address} and opens it as a source. */
    public static Mono<NbdSource> open(NbdAddress address, NbdClientOptions options, boolean topLayerOnly) {
        return NbdClient.connect(address, options).map(c -> new NbdSource(c, topLayerOnly, DEFAULT_WINDOW));
    }

    /** The client, e.g. for its {@link NbdClient#info()}. */
    public NbdClient client() {
        return client;
    }

    @Override
    public String endpoint() {
        return client.address().toString();
    }

    @Override
    public String format() {
        return "raw";
    }

    /** {@link NbdClient#PREFERRED_REQUEST_SIZE}: NBD servers allocate a buffer per request. */
    @Override
    public int preferredRequestSize() {
        return NbdClient.PREFERRED_REQUEST_SIZE;
    }

    @Override
    public long size() {
        return client.size();
    }

    @Override
    public Flux<Extent> extents(long start, long length) {
        if (!ImageIoException.fits(start, length, size())) {
            return Flux.error(new ImageIoException("extents", endpoint(), start, length,
                    "range is outside the export (size " + size() + ")", null));
        }
        if (client.info().contexts().isEmpty()) {
            return length == 0 ? Flux.empty() : Flux.just(Extent.data(start, length));
        }
        long min = client.info().minimumBlock();
        return ExtentWindows.windowed(endpoint(), start, length, window, (s, l) -> {
            // The server wants offsets in whole minimum blocks: ask from the block holding s, then
            // cut the answer to start at s as ExtentWindows expects.
            long aligned = s - s % min;
            return client.blockStatus(aligned, l + (s - aligned)).map(m -> startAt(s, toExtents(aligned, m)));
        });
    }

    private static List<Extent> startAt(long s, List<Extent> extents) {
        List<Extent> out = new ArrayList<>(extents.size());
        for (Extent e : extents) {
            if (e.end() > s) {
                out.add(e.start() < s ? e.clip(s, e.end()) : e);
            }
        }
        return out;
    }

    /** Combines the contexts' descriptors into extents from {@code start}, as far as all contexts reach. */
    private List<Extent> toExtents(long start, Map<String, List<NbdExtent>> status) {
        List<NbdExtent> base = status.get(NbdProtocol.CONTEXT_BASE_ALLOCATION);
        List<NbdExtent> depth = status.get(NbdProtocol.CONTEXT_ALLOCATION_DEPTH);
        List<Extent> out = new ArrayList<>();
        int bi = 0;
        int di = 0;
        long pos = start;
        while ((base == null || bi < base.size()) && (depth == null || di < depth.size())) {
            long end = Long.MAX_VALUE;
            if (base != null) {
                end = Math.min(end, base.get(bi).end());
            }
            if (depth != null) {
                end = Math.min(end, depth.get(di).end());
            }
            out.add(kind(pos, end - pos, base == null ? -1 : base.get(bi).flags(),
                    depth == null ? -1 : depth.get(di).flags()));
            pos = end;
            if (base != null && base.get(bi).end() == end) {
                bi++;
            }
            if (depth != null && depth.get(di).end() == end) {
                di++;
            }
        }
        return out;
    }

    private Extent kind(long start, long length, int base, int depth) {
        if (depth == 0) {
            return Extent.hole(start, length);
        }
        if (topLayerOnly && depth >= 2) {
            return new Extent(start, length, false, true);
        }
        if (base < 0) {
            return Extent.data(start, length);
        }
        boolean zero = (base & NbdProtocol.STATE_ZERO) != 0;
        boolean hole = (base & NbdProtocol.STATE_HOLE) != 0;
        if (!zero) {
            return Extent.data(start, length);
        }
        // With allocation depth, a range allocated somewhere (depth >= 1) that reads as zeros is a
        // zero extent, even when base:allocation calls it a hole (qemu does for qcow2 zero clusters):
        // it hides whatever lies below it, so a copy must write it.
        return hole && depth < 0 ? Extent.hole(start, length) : Extent.zero(start, length);
    }

    @Override
    public <C extends SourceCapability> Optional<C> capability(Class<C> type) {
        return capabilities.get(type);
    }

    @Override
    public Mono<Void> read(long offset, ByteBuffer target) {
        return client.read(offset, target);
    }

    /**
     * One read of the whole range: a server answers the zeros in it with hole chunks (qemu-nbd) or
     * sends them as data (nbdkit), either way one round trip instead of one per piece.
     */
    @Override
    public Mono<Void> readPieces(long offset, ByteBuffer target, List<Extent> pieces) {
        return client.read(offset, target);
    }

    @Override
    public Map<String, Object> details() {
        ExportInfo info = client.info();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("export", info.name());
        d.put("read-only", info.readOnly());
        d.put("multi-conn", info.canMultiConn());
        d.put("connections", client.connections());
        d.put("block-size-minimum", info.minimumBlock());
        d.put("block-size-preferred", info.preferredBlock());
        d.put("block-size-maximum", info.maximumPayload());
        d.put("contexts", info.contexts());
        d.put("extended-headers", info.extendedHeaders());
        return d;
    }

    @Override
    public void close() {
        client.close();
    }

    /** Completes once every connection to the export is closed. */
    @Override
    public Mono<Void> closeGracefully() {
        return client.closeGracefully();
    }
}
