package io.extentflow.sinks.qcow2;

import io.extentflow.engine.endpoint.EndpointOption;
import io.extentflow.engine.endpoint.EndpointOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The options of qcow2 targets, as {@link EndpointOption} keys: what the command line offers as
 * {@code --cluster-size}, {@code --compress[=zlib|zstd]}, {@code --backing} and
 * {@code --backing-format}, and the daemon's jobs as {@code cluster_size}, {@code compress},
 * {@code backing}, {@code backing_format}. {@link #of(EndpointOptions)} turns them into the
 * {@link Qcow2SinkOptions} a sink is opened with. Other kinds of target do not take them (a copy that
 * gives one for such a target is refused, see {@link io.extentflow.engine.endpoint.Endpoints#requireApplicable}).
 */
public final class Qcow2Options {

    /** Bytes per cluster, as qemu-img's {@code cluster_size}: a power of two from 4K to 2M. */
    public static final EndpointOption<Integer> CLUSTER_SIZE = EndpointOption.of("cluster-size", "SIZE",
            Integer.class, Qcow2SinkOptions.DEFAULT_CLUSTER_SIZE, "a power of two from 4K to 2M",
            "Cluster size of a qcow2 target: a power of two from 4K to 2M (4096 to 2097152 bytes). Larger "
                    + "clusters mean less metadata, smaller ones a sparser image.",
            Qcow2Options::clusterSize);

    /** Compress the data clusters of a qcow2 target; zstd when given without a codec. */
    public static final EndpointOption<String> COMPRESS = EndpointOption.choice("compress", "zlib|zstd",
            List.of("zlib", "zstd"), null,
            "Compress the data clusters of a qcow2 target, with zstd (the default) or zlib (--compress=zlib, "
                    + "which older qemu versions read). Clusters that do not shrink are stored as they are.")
            .withImplicitValue("zstd");

    /** The backing file of a qcow2 target, whose name is written as given. */
    public static final EndpointOption<Path> BACKING = EndpointOption.path("backing", "FILE",
            "Write the qcow2 target as an overlay on FILE: what the copy leaves unwritten (the holes of a "
                    + "--top-layer-only source) reads from FILE. The name is stored as given; a relative one is "
                    + "resolved from the target's directory, as qemu does. FILE must have the image's size.");

    /** The format of {@link #BACKING}; probed from the file when not given. */
    public static final EndpointOption<String> BACKING_FORMAT = EndpointOption.choice("backing-format", "raw|qcow2",
            List.of("raw", "qcow2"), null,
            "The format of the --backing file, written into the overlay (by default probed from the file).");

    private Qcow2Options() {
    }

    /** The options of every qcow2 target, in the order help lists them. */
    static List<EndpointOption<?>> all() {
        return List.of(CLUSTER_SIZE, COMPRESS, BACKING, BACKING_FORMAT);
    }

    /**
     * The layout {@code options} ask for. A backing format without a backing file is an
     * {@link IllegalArgumentException}.
     */
    public static Qcow2SinkOptions of(EndpointOptions options) {
        Path backing = options.get(BACKING);
        String backingFormat = options.get(BACKING_FORMAT);
        Qcow2Compression compression = switch (options.getOrElse(COMPRESS, "none")) {
            case "zlib" -> Qcow2Compression.ZLIB;
            case "zstd" -> Qcow2Compression.ZSTD;
            default -> Qcow2Compression.NONE;
        };
        return new Qcow2SinkOptions(options.get(CLUSTER_SIZE), compression,
                backing == null ? null : backing.toString(), backingFormat);
    }

    /** {@code 65536}, {@code 64k}, {@code 64K}, {@code 64KiB}, {@code 2M}: a power of two from 4K to 2M. */
    private static Integer clusterSize(String text) {
        String s = text.strip();
        int digits = 0;
        while (digits < s.length() && Character.isDigit(s.charAt(digits))) {
            digits++;
        }
        String unit = s.substring(digits).toUpperCase(Locale.ROOT);
        int shift = switch (unit) {
            case "", "B" -> 0;
            case "K", "KB", "KIB" -> 10;
            case "M", "MB", "MIB" -> 20;
            default -> -1;
        };
        long value = -1;
        if (digits > 0 && digits <= 9 && shift >= 0) {
            value = Long.parseLong(s.substring(0, digits)) << shift;
        }
        if (value < Qcow2SinkOptions.MIN_CLUSTER_SIZE || value > Qcow2SinkOptions.MAX_CLUSTER_SIZE
                || Long.bitCount(value) != 1) {
            throw new IllegalArgumentException("must be a power of two from 4K to 2M (4096 to 2097152 bytes), got '"
                    + text + "'");
        }
        return (int) value;
    }
}
