package io.extentflow.sources.qcow2;

import io.extentflow.sources.qcow2.LayerRun.Kind;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A qcow2 image and its backing files, top first. Resolves guest ranges through the chain the way
 * qemu does: a range the top leaves unallocated is asked of its backing file, up to that file's
 * size; past it the range reads as zeros.
 */
final class Qcow2Chain implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Qcow2Chain.class.getName());

    private final List<Layer> layers;

    private Qcow2Chain(List<Layer> layers) {
        this.layers = List.copyOf(layers);
    }

    /**
     * Opens {@code top} and every backing file below it. Blocking.
     *
     * @throws IOException naming the image for missing backing files, loops, unsupported formats
     *                     and corrupt or refused qcow2 files
     */
    static Qcow2Chain open(Path top) throws IOException {
        List<Layer> layers = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        try {
            Path path = top;
            String format = "qcow2";
            Path child = null;
            String childNames = null;
            while (path != null) {
                Path real;
                try {
                    real = path.toRealPath();
                } catch (NoSuchFileException e) {
                    throw new NoSuchFileException(path.toString(), null, child == null
                            ? "image does not exist" : missingBacking(child, childNames));
                }
                if (!seen.add(real)) {
                    throw new Qcow2FormatException(top, "backing chain loops: " + path + " appears twice");
                }
                if (format.equals("raw")) {
                    layers.add(RawLayer.open(path));
                    break;
                }
                Qcow2Layer layer = Qcow2Layer.open(path);
                layers.add(layer);
                warnAboutFlags(layer);
                String name = layer.header().backingFile();
                if (name == null) {
                    break;
                }
                Path next = backingPath(path, name);
                format = backingFormat(path, name, layer.header().backingFormat(), next);
                child = path;
                childNames = name;
                path = next;
            }
            return new Qcow2Chain(layers);
        } catch (IOException | RuntimeException e) {
            layers.forEach(Layer::close);
            throw e;
        }
    }

    private static void warnAboutFlags(Qcow2Layer layer) {
        if (layer.header().dirty()) {
            LOG.log(System.Logger.Level.WARNING, layer.path() + ": image was not closed cleanly (dirty bit set);"
                    + " its refcounts may be stale, reading it anyway");
        }
        if (layer.header().corrupt()) {
            LOG.log(System.Logger.Level.WARNING, layer.path() + ": image is marked corrupt; reading it with"
                    + " strict bounds checks");
        }
    }

    /** A backing name as qemu resolves it: relative names against the folder of the image naming it. */
    private static Path backingPath(Path image, String name) throws IOException {
        if (name.startsWith("json:") || name.contains("://")) {
            throw new Qcow2FormatException(image, "backing file '" + name + "' is not a local file name");
        }
        Path p;
        try {
            p = Path.of(name);
        } catch (InvalidPathException e) {
            throw new Qcow2FormatException(image, "backing file name '" + name + "' is not a valid file name");
        }
        if (p.isAbsolute()) {
            return p;
        }
        Path dir = image.toAbsolutePath().getParent();
        return dir == null ? p : dir.resolve(p);
    }

    /** The declared backing format, or the one found by magic (as qemu does when none is declared). */
    private static String backingFormat(Path image, String name, String declared, Path backing) throws IOException {
        if (declared != null) {
            if (!declared.equals("qcow2") && !declared.equals("raw")) {
                throw new Qcow2FormatException(image, "backing file format '" + declared + "' is not supported"
                        + " (only qcow2 and raw)");
            }
            return declared;
        }
        try (FileChannel ch = FileChannel.open(backing, StandardOpenOption.READ)) {
            return Qcow2Header.hasMagic(ch) ? "qcow2" : "raw";
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(backing.toString(), null, missingBacking(image, name));
        }
    }

    /** As qemu-img says it: the image that refers to the file, and the name as its header spells it. */
    private static String missingBacking(Path image, String name) {
        return "backing file of " + image + " does not exist (its header names '" + name + "')";
    }

    /** The layers, top first. */
    List<Layer> layers() {
        return Collections.unmodifiableList(layers);
    }

    Layer top() {
        return layers.get(0);
    }

    /** The smallest range with a status of its own anywhere in the chain. */
    long granularity() {
        return layers.stream().mapToLong(Layer::granularity).min().orElseThrow();
    }

    /**
     * Appends the resolved runs of {@code [from, to)} (within the top's size) to {@code out}.
     *
     * @param topOnly  stop at the top: its unallocated ranges stay {@link Kind#UNALLOCATED}
     * @param mayBlock false to throw {@link WouldBlock} rather than read metadata from a file
     */
    void resolve(long from, long to, boolean topOnly, boolean mayBlock, List<ChainRun> out) throws IOException {
        resolve(0, from, to, topOnly ? 1 : layers.size(), (l, f, t, o) -> l.runs(f, t, mayBlock, o), out);
    }

    /**
     * Appends the runs of {@code [from, to)} through the whole chain for a read that must not wait
     * for the disk ({@link Layer#readableRuns}: a raw backing file's range is data, holes and all).
     *
     * @throws WouldBlock when a layer's metadata for the range is not in memory
     */
    void resolveReadable(long from, long to, List<ChainRun> out) throws IOException {
        resolve(0, from, to, layers.size(), Layer::readableRuns, out);
    }

    /**
     * Guest bytes a lookup needs at most one L2 table of each qcow2 layer for (from a multiple of
     * it): the smallest reach of an L2 table in the chain.
     */
    long lookupStep() {
        return layers.stream().mapToLong(Layer::tableReach).min().orElse(Long.MAX_VALUE);
    }

    /** How one layer is asked for its runs. */
    @FunctionalInterface
    private interface RunQuery {
        void runs(Layer layer, long from, long to, List<LayerRun> out) throws IOException;
    }

    private void resolve(int depth, long from, long to, int usedLayers, RunQuery query, List<ChainRun> out)
            throws IOException {
        List<LayerRun> runs = new ArrayList<>();
        query.runs(layers.get(depth), from, to, runs);
        boolean hasBacking = depth + 1 < usedLayers;
        long backingSize = hasBacking ? layers.get(depth + 1).statusSize() : 0;
        for (LayerRun r : runs) {
            if (r.kind() == Kind.UNALLOCATED && hasBacking && r.start() < backingSize) {
                long mid = Math.min(r.end(), backingSize);
                resolve(depth + 1, r.start(), mid, usedLayers, query, out);
                if (mid < r.end()) {
                    out.add(new ChainRun(depth, r.slice(mid, r.end())));
                }
            } else {
                out.add(new ChainRun(depth, r));
            }
        }
    }

    @Override
    public void close() {
        layers.forEach(Layer::close);
    }
}
