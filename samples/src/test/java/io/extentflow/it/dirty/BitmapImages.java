package io.extentflow.it.dirty;

import io.extentflow.engine.testing.ExternalTool;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * qcow2 images with persistent dirty bitmaps, made and changed by qemu's own tools: {@code qemu-img
 * create}, {@code qemu-img bitmap} and {@code qemu-io} commands ({@code write -P}, {@code write -z},
 * {@code discard}), so the bitmaps are exactly what qemu tracks.
 */
public final class BitmapImages {

    private BitmapImages() {
    }

    /** A new qcow2 image of {@code size} bytes (64 KiB clusters) with an enabled bitmap {@code bitmap}. */
    public static void create(Path image, long size, String bitmap, Integer granularity) {
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", image.toString(), Long.toString(size));
        addBitmap(image, bitmap, granularity);
    }

    /** Adds an enabled persistent bitmap (granularity in bytes, or qemu's default when null). */
    public static void addBitmap(Path image, String bitmap, Integer granularity) {
        List<String> cmd = new ArrayList<>(List.of("qemu-img", "bitmap", "--add", "--enable"));
        if (granularity != null) {
            cmd.addAll(List.of("--granularity", granularity.toString()));
        }
        cmd.addAll(List.of(image.toString(), bitmap));
        ExternalTool.check(cmd.toArray(String[]::new));
    }

    /** Clears {@code bitmap}: what a backup does once it has copied the dirty extents. */
    public static void clear(Path image, String bitmap) {
        ExternalTool.check("qemu-img", "bitmap", "--clear", image.toString(), bitmap);
    }

    /** Runs qemu-io commands ({@code "write -P 7 1M 64k"}, {@code "write -z 0 4k"}, {@code "discard 2M 1M"}). */
    public static void io(Path image, String... commands) {
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
        for (String c : commands) {
            cmd.add("-c");
            cmd.add(c);
        }
        cmd.add(image.toString());
        ExternalTool.check(cmd.toArray(String[]::new));
    }
}
