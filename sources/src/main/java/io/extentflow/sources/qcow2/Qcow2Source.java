package io.extentflow.sources.qcow2;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.AllocationDepth;
import io.extentflow.engine.capability.CachedReads;
import io.extentflow.engine.capability.Capabilities;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.capability.HostOffsets;
import io.extentflow.engine.capability.SourceCapability;
import io.extentflow.engine.extent.ExtentWindows;
import io.extentflow.engine.extent.Runs;
import io.extentflow.engine.io.BlockingIo;
import io.extentflow.engine.map.MapEntry;
import io.extentflow.engine.nbd.NbdExtent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A qcow2 image (version 2 or 3) and its backing chain, read by our own parser: no qemu at run time.
 *
 * <p>Extents: data for standard and compressed clusters anywhere in the chain, {@code zero} for zero
 * clusters and subclusters (and, as qemu reports them, for holes in a raw backing file and for data
 * clusters of metadata-preallocated images whose host range is a hole), {@code hole} (with
 * {@code zero}) where no layer allocates the range: unallocated in every qcow2 layer, or past the
 * end of the backing file. With {@code topLayerOnly}, ranges the top image leaves to its backing
 * file become holes without {@code zero}. Reads go through the whole chain either way.
 *
 * <p>Capabilities: {@link HostOffsets} ({@link #map} answers exactly what {@code qemu-img map
 * --output=json} prints; qemu 7.2: no "compressed" field) and {@link AllocationDepth} (what qemu-nbd
 * reports as {@code qemu:allocation-depth}), both over the whole chain; {@link CachedReads} of plain,
 * zero and unallocated clusters whose metadata is in memory ({@link CachedChainReads}); {@link DirtyExtents} when
 * opened with the name of one of the top image's persistent dirty bitmaps ({@link Qcow2Bitmap}).
 *
 * <p>Metadata comes from an in-memory L1 table and a bounded L2 cache; lookups that need no file
 * read run on the caller's thread, the rest on {@link BlockingIo#scheduler()}. Errors from corrupt
 * files are {@link ImageIoException}s naming the image and the problem.
 */
public final class Qcow2Source implements ImageSource, HostOffsets {

    /** Extent windows hold at most this many granules (clusters or subclusters), bounding their memory. */
    private static final int GRANULES_PER_WINDOW = 1 << 16;
    private static final long MIN_WINDOW = 1L << 20;

    private final Path path;
    private final String endpoint;
    private final Qcow2Chain chain;
    private final ChainReader reader;
    private final boolean topLayerOnly;
    private final long size;
    private final long window;
    private final Capabilities capabilities;
    private final AtomicBoolean closed = new AtomicBoolean();

    private final List<String> bitmaps;

    private Qcow2Source(Path path, Qcow2Chain chain, boolean topLayerOnly, Qcow2Bitmap bitmap) {
        this.path = path;
        this.endpoint = "file:" + path;
        this.chain = chain;
        this.reader = new ChainReader(chain);
        this.topLayerOnly = topLayerOnly;
        this.size = chain.top().statusSize();
        this.window = Math.max(MIN_WINDOW, chain.granularity() * GRANULES_PER_WINDOW);
        Capabilities offered = Capabilities.none()
                .with(HostOffsets.class, this)
                .with(AllocationDepth.class, this::allocationDepth)
                .with(CachedReads.class, new CachedChainReads(chain, size));
        this.capabilities = bitmap == null ? offered : offered.with(DirtyExtents.class, bitmap);
        this.bitmaps = Qcow2Bitmap.describe((Qcow2Layer) chain.top()); // one directory read, on the opener's thread
    }

    /** Opens {@code path} and its backing chain on the file I/O scheduler. */
    public static Mono<Qcow2Source> open(Path path, boolean topLayerOnly) {
        return BlockingIo.call(() -> openNow(path, topLayerOnly));
    }

    /**
     * Opens {@code path} and its backing chain on the calling thread (blocking; for callers already
     * on the file I/O scheduler).
     *
     * @param topLayerOnly report ranges the image leaves to its backing file as holes without zero
     * @throws IOException naming the image: not qcow2, corrupt, refused feature, backing file missing
     */
    public static Qcow2Source openNow(Path path, boolean topLayerOnly) throws IOException {
        return openNow(path, topLayerOnly, null);
    }

    /**
     * Opens {@code path} and its backing chain like {@link #openNow(Path, boolean)}, and with
     * {@code bitmap} not null its persistent dirty bitmap of that name, offered as {@link DirtyExtents}.
     *
     * @throws IOException also when the image has no such bitmap (naming the ones it has) or the bitmap
     *                     is inconsistent (in use) or corrupt
     */
    public static Qcow2Source openNow(Path path, boolean topLayerOnly, String bitmap) throws IOException {
        Qcow2Chain chain = Qcow2Chain.open(path);
        try {
            Qcow2Bitmap dirty = bitmap == null ? null : Qcow2Bitmap.load((Qcow2Layer) chain.top(), bitmap);
            return new Qcow2Source(path, chain, topLayerOnly, dirty);
        } catch (IOException | RuntimeException e) {
            chain.close();
            throw e;
        }
    }

    @Override
    public String endpoint() {
        return endpoint;
    }

    @Override
    public String format() {
        return "qcow2";
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public Flux<Extent> extents(long start, long length) {
        if (!ImageIoException.fits(start, length, size)) {
            return Flux.error(ImageIoException.outside("extents", endpoint, start, length, size));
        }
        return ExtentWindows.windowed(endpoint, start, length, window,
                (s, l) -> resolved("extents", s, s + l, topLayerOnly).map(this::toExtents));
    }

    /**
     * The map of the whole chain (also for a top-layer-only source), as {@code qemu-img map
     * --output=json --start-offset=start --max-length=length} prints it: clipped to the image,
     * adjacent entries merged by qemu's rules.
     */
    @Override
    public <C extends SourceCapability> Optional<C> capability(Class<C> type) {
        return capabilities.get(type);
    }

    @Override
    public Flux<MapEntry> map(long start, long length) {
        if (start < 0 || length < 0) {
            return Flux.error(new ImageIoException("map", endpoint, start, length, "negative range", null));
        }
        // like qemu-img map: the window is clipped to the image
        long end = Math.min(size, start + Math.min(length, Long.MAX_VALUE - start));
        Flux<MapEntry> entries = wholeChain("map", start, end).concatMapIterable(QemuMap::entries);
        return Runs.merge(entries); // by qemu's rules: MapEntry#continuedBy
    }

    /**
     * The allocation depth of {@code [start, start + length)} in {@code qemu:allocation-depth}'s values,
     * as qemu-nbd reports them: the depth of the layer that allocates the range plus one (zero
     * clusters are allocated: they hide what lies below), 0 where no layer does. Adjacent equal
     * values merged.
     */
    private Flux<NbdExtent> allocationDepth(long start, long length) {
        if (!ImageIoException.fits(start, length, size)) {
            return Flux.error(ImageIoException.outside("allocation depth", endpoint, start, length, size));
        }
        int layers = chain.layers().size();
        Flux<NbdExtent> depths = wholeChain("allocation depth", start, start + length)
                .concatMapIterable(runs -> runs.stream()
                        .map(cr -> new NbdExtent(cr.run().start(), cr.run().length(), depthValue(cr, layers)))
                        .toList());
        return Runs.merge(depths);
    }

    /**
     * A run left unallocated by a layer that has a backing file lies past that backing file's end
     * (the chain resolves every other unallocated range in the layers below); qemu counts it as
     * allocated in the backing file, which reads as zeros there, so its depth is the backing file's.
     */
    private static int depthValue(ChainRun cr, int layers) {
        if (cr.run().kind() != LayerRun.Kind.UNALLOCATED) {
            return cr.depth() + 1;
        }
        boolean hasBacking = cr.depth() + 1 < layers;
        return hasBacking ? cr.depth() + 2 : 0;
    }

    /** The runs of {@code [start, end)} resolved through the whole chain, one window at a time. */
    private Flux<List<ChainRun>> wholeChain(String operation, long start, long end) {
        return Flux.<long[], Long>generate(() -> start, (pos, sink) -> {
                    if (pos >= end) {
                        sink.complete();
                    } else {
                        sink.next(new long[] {pos, Math.min(end, pos + window)});
                    }
                    return pos + window;
                })
                .concatMap(w -> resolved(operation, w[0], w[1], false), 1);
    }

    /** Resolves {@code [from, to)}: on this thread when the metadata is in memory, else on the file I/O scheduler. */
    private Mono<List<ChainRun>> resolved(String operation, long from, long to, boolean topOnly) {
        return Mono.defer(() -> {
            List<ChainRun> runs = new ArrayList<>();
            try {
                chain.resolve(from, to, topOnly, false, runs);
                return Mono.just(runs);
            } catch (WouldBlock e) {
                return BlockingIo.call(() -> {
                    List<ChainRun> again = new ArrayList<>();
                    chain.resolve(from, to, topOnly, true, again);
                    return again;
                });
            } catch (IOException e) {
                return Mono.error(e);
            }
        }).onErrorMap(e -> ImageIoException.wrap(operation, endpoint, from, to - from, e));
    }

    private List<Extent> toExtents(List<ChainRun> runs) {
        boolean topHasBacking = chain.layers().size() > 1;
        List<Extent> out = new ArrayList<>(runs.size());
        for (ChainRun cr : runs) {
            LayerRun r = cr.run();
            Extent e = switch (r.kind()) {
                case DATA, COMPRESSED -> Extent.data(r.start(), r.length());
                case ZERO, SPARSE_DATA -> Extent.zero(r.start(), r.length());
                case UNALLOCATED -> topLayerOnly && topHasBacking
                        ? new Extent(r.start(), r.length(), false, true)
                        : Extent.hole(r.start(), r.length());
            };
            Runs.append(out, e);
        }
        return out;
    }

    @Override
    public Mono<Void> read(long offset, ByteBuffer target) {
        int length = target.remaining();
        if (!ImageIoException.fits(offset, length, size)) {
            return Mono.error(ImageIoException.outside("read", endpoint, offset, length, size));
        }
        if (length == 0) {
            return Mono.empty();
        }
        return reader.read(offset, target)
                .then(Mono.fromRunnable(() -> target.position(target.limit())))
                .onErrorMap(e -> ImageIoException.wrap("read", endpoint, offset, length, e))
                .then();
    }

    /**
     * Version, cluster size, compression, extended L2, feature flags and the backing chain, as
     * {@code qemu-img info} shows them (the virtual size and allocation are the caller's to show).
     */
    @Override
    public Map<String, Object> details() {
        Qcow2Layer top = (Qcow2Layer) chain.top();
        Qcow2Header h = top.header();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("version", h.version());
        d.put("compat", h.version() == 2 ? "0.10" : "1.1");
        d.put("cluster size", h.clusterSize());
        d.put("compression type", h.compressionName());
        d.put("extended l2", h.extendedL2());
        d.put("refcount bits", 1 << h.refcountOrder());
        d.put("lazy refcounts", (h.compatible() & Qcow2Header.COMPAT_LAZY_REFCOUNTS) != 0);
        d.put("dirty", h.dirty());
        d.put("corrupt", h.corrupt());
        d.put("snapshots", h.snapshots());
        if (h.backingFile() != null) {
            d.put("backing file", h.backingFile());
            d.put("backing file format", chain.layers().get(1).format());
            List<String> backing = new ArrayList<>();
            for (Layer l : chain.layers().subList(1, chain.layers().size())) {
                backing.add(l.path() + " (" + l.format() + ")");
            }
            d.put("backing chain", List.copyOf(backing));
        }
        d.put("top layer only", topLayerOnly);
        if (!bitmaps.isEmpty()) {
            d.put("bitmaps", bitmaps);
        }
        return d;
    }

    /** The files of the chain, top first. */
    @Override
    public List<Path> files() {
        return chain.layers().stream().map(Layer::path).toList();
    }

    /** The qcow2 file this source reads. */
    public Path path() {
        return path;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            chain.close();
        }
    }
}
