package io.extentflow.sources.qcow2;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.extentflow.engine.Extent;
import io.extentflow.engine.map.MapEntry;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.TestImages;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds qcow2 test images with qemu-img and qemu-io, and reads qemu's view of them (map, raw
 * contents) to compare ours with.
 */
public final class Qcow2Fixtures {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Qcow2Fixtures() {
    }

    /** What lies under the top image. */
    public enum Backing { NONE, QCOW2, RAW, SHORT_QCOW2, UNALIGNED_RAW, CHAIN3 }

    /**
     * One image to build.
     *
     * @param clusterSize bytes
     * @param compression null (no compressed clusters), {@code zlib} or {@code zstd}
     * @param extendedL2  128-bit L2 entries with subclusters
     * @param backing     what lies under the top image
     * @param v2          qcow2 version 2 ({@code compat=0.10})
     */
    public record Spec(int clusterSize, String compression, boolean extendedL2, Backing backing, boolean v2) {

        /** Virtual size: a few MiB, at least twelve clusters. */
        public long size() {
            return Math.max(4L << 20, 12L * clusterSize);
        }

        @Override
        public String toString() {
            return (v2 ? "v2 " : "") + clusterSize + " " + (compression == null ? "plain" : compression)
                    + (extendedL2 ? " extl2" : "") + " backing=" + backing.name().toLowerCase();
        }

        String options() {
            StringBuilder o = new StringBuilder("cluster_size=" + clusterSize);
            if (v2) {
                o.append(",compat=0.10");
            } else {
                o.append(",extended_l2=").append(extendedL2 ? "on" : "off");
                if (compression != null) {
                    o.append(",compression_type=").append(compression);
                }
            }
            return o.toString();
        }
    }

    /** Builds the image of {@code spec} in {@code dir} and returns the top file. */
    public static Path build(Path dir, Spec spec, long seed) throws IOException {
        long size = spec.size();
        long c = spec.clusterSize();
        Path top = dir.resolve("top.qcow2");
        String backingFile = null;
        String backingFormat = null;
        switch (spec.backing()) {
            case NONE -> {
                Path raw = dir.resolve("content.raw");
                TestImages.randomSparseRaw(raw, size, seed, 40, 256 << 10);
                convert(raw, top, spec);
            }
            case QCOW2, SHORT_QCOW2 -> {
                long baseSize = spec.backing() == Backing.QCOW2 ? size : size / 2 + 3 * 512;
                Path raw = dir.resolve("base-content.raw");
                TestImages.randomSparseRaw(raw, baseSize, seed, 50, 256 << 10);
                convert(raw, dir.resolve("base.qcow2"), spec);
                qemuIo(dir.resolve("base.qcow2"), "qcow2", "write -z " + c + " " + c,
                        "write -P 0x5a " + (size / 4 + 100) + " 3000");
                backingFile = "base.qcow2";
                backingFormat = "qcow2";
            }
            case RAW, UNALIGNED_RAW -> {
                long baseSize = spec.backing() == Backing.RAW ? size : size / 2 + 1000;
                TestImages.randomSparseRaw(dir.resolve("base.raw"), baseSize, seed, 50, 256 << 10);
                backingFile = "base.raw";
                backingFormat = "raw";
            }
            case CHAIN3 -> {
                TestImages.randomSparseRaw(dir.resolve("base.raw"), size / 2 + 1000, seed, 50, 256 << 10);
                ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", spec.options(), "-b", "base.raw",
                        "-F", "raw", dir.resolve("mid.qcow2").toString(), Long.toString(size * 3 / 4));
                qemuIo(dir.resolve("mid.qcow2"), "qcow2", "write -P 0x31 " + (c + 512) + " " + (3 * c),
                        "write -z " + (size / 2 - c) + " " + (2 * c), "write -P 0x32 " + (size / 2 + c) + " 5000");
                backingFile = "mid.qcow2";
                backingFormat = "qcow2";
            }
        }
        if (backingFile != null) {
            // relative names: resolved against the image's folder
            ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", "-o", spec.options(), "-b", backingFile,
                    "-F", backingFormat, top.toString(), Long.toString(size));
        }
        qemuIo(top, "qcow2", topOps(spec).toArray(String[]::new));
        settle(dir);
        return top;
    }

    /**
     * Makes every file in {@code dir} durable before qemu and we are asked about it. qemu's map asks
     * the file system where a data cluster's host range has data ({@code SEEK_DATA}/{@code SEEK_HOLE}),
     * and while ext4 writes back pages of a range qemu had zeroed with fallocate (unwritten extents),
     * the answer can change from one call to the next: a map taken on a busy machine once split a
     * 64 KiB subcluster at 8 KiB that qemu reports whole on a settled file. After fsync there is
     * nothing in flight.
     */
    private static void settle(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                        ch.force(true);
                    }
                }
            }
        }
    }

    private static void convert(Path raw, Path qcow2, Spec spec) {
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2",
                "-o", spec.options()));
        if (spec.compression() != null) {
            cmd.add("-c");
        }
        cmd.add(raw.toString());
        cmd.add(qcow2.toString());
        check(cmd);
    }

    /** Writes of every kind the format has: partial, whole-cluster, zero (plain and preallocated), compressed, subclusters. */
    private static List<String> topOps(Spec spec) {
        long c = spec.clusterSize();
        long s = spec.size();
        List<String> ops = new ArrayList<>();
        ops.add("write -P 0x11 " + (c / 2 + 1000) + " 5000");
        ops.add("write -P 0x22 " + 2 * c + " " + c);
        ops.add("write -z " + 3 * c + " " + c);
        ops.add("write -P 0x33 " + 4 * c + " " + 2 * c);
        ops.add("write -z " + 4 * c + " " + c);            // zero cluster keeping its host cluster
        ops.add("write -P 0x44 " + 6 * c + " " + c);
        ops.add("write -z -u " + 6 * c + " " + c);         // zero cluster, host cluster freed
        ops.add("write -P 0x55 " + (s / 2 - 3000) + " 7000");
        ops.add("write -z " + (s / 2 + 3 * c / 2 + 512) + " 1536");
        if (spec.compression() != null && spec.backing() != Backing.NONE) {
            // compressed writes need clusters the top has not allocated (a converted image has them already)
            ops.add("write -c -P 0x66 " + (s - 2 * c) + " " + c);
            ops.add("write -c -P 0x67 " + (s - 3 * c) + " " + c);
        }
        if (spec.extendedL2()) {
            long sc = c / 32;
            ops.add("write -P 0x77 " + (7 * c + 8 * sc) + " " + sc);
            ops.add("write -z " + (7 * c + sc) + " " + 2 * sc);
            ops.add("write -P 0x78 " + (7 * c + 20 * sc + 100) + " " + sc);
        }
        return ops;
    }

    /** Runs qemu-io commands on an image. */
    public static void qemuIo(Path image, String format, String... commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", format));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        check(cmd);
    }

    /** Runs a command; fails the test if it exits non-zero. */
    public static String check(List<String> cmd) {
        return ExternalTool.check(cmd.toArray(String[]::new));
    }

    /** The guest contents as qemu reads them. */
    public static Path qemuRaw(Path image, Path out) {
        ExternalTool.check("qemu-img", "convert", "-q", "-O", "raw", image.toString(), out.toString());
        return out;
    }

    /** Fails naming the first entry where {@code actual} differs from {@code expected}. */
    public static <T> void assertSameList(List<T> expected, List<T> actual, String what) {
        int n = Math.min(expected.size(), actual.size());
        for (int i = 0; i < n; i++) {
            if (!expected.get(i).equals(actual.get(i))) {
                throw new AssertionError(what + " differs at entry " + i + ": expected " + expected.get(i)
                        + " but was " + actual.get(i));
            }
        }
        if (expected.size() != actual.size()) {
            throw new AssertionError(what + " has " + actual.size() + " entries, expected " + expected.size() + ": "
                    + (expected.size() > n ? "missing " + expected.get(n) : "extra " + actual.get(n)));
        }
    }

    /** {@code qemu-img map --output=json}, optionally windowed (pass -1 for no window). */
    public static List<MapEntry> qemuMap(Path image, long start, long maxLength) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "map", "--output=json"));
        if (start >= 0) {
            cmd.add("--start-offset=" + start);
            cmd.add("--max-length=" + maxLength);
        }
        cmd.add(image.toString());
        List<MapEntry> out = new ArrayList<>();
        for (JsonNode n : JSON.readTree(check(cmd))) {
            out.add(new MapEntry(n.get("start").asLong(), n.get("length").asLong(), n.get("depth").asInt(),
                    n.get("present").asBoolean(), n.get("zero").asBoolean(), n.get("data").asBoolean(),
                    n.has("offset") ? n.get("offset").asLong() : null,
                    n.has("compressed") ? n.get("compressed").asBoolean() : null));
        }
        return out;
    }

    /**
     * The extents qemu's map implies: data, zero (allocated somewhere), hole (allocated nowhere);
     * with {@code topOnly}, whatever the top does not allocate is a hole without zero.
     */
    public static List<Extent> extentsFromMap(List<MapEntry> map, boolean topOnly) {
        List<Extent> out = new ArrayList<>();
        for (MapEntry m : map) {
            Extent e;
            if (topOnly && (m.depth() > 0 || !m.present())) {
                e = new Extent(m.start(), m.length(), false, true);
            } else if (!m.present()) {
                e = Extent.hole(m.start(), m.length());
            } else if (m.zero()) {
                e = Extent.zero(m.start(), m.length());
            } else {
                e = Extent.data(m.start(), m.length());
            }
            int last = out.size() - 1;
            if (last >= 0 && out.get(last).sameKind(e) && out.get(last).end() == e.start()) {
                Extent p = out.get(last);
                out.set(last, p.withRange(p.start(), p.length() + e.length()));
            } else {
                out.add(e);
            }
        }
        return out;
    }
}
