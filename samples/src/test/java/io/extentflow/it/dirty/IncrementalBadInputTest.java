package io.extentflow.it.dirty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.cli.Extentflow;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.engine.testing.ExternalTool;
import io.extentflow.engine.testing.NbdServers;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Incremental copies that must not happen: each gives one line naming the file and the cause, and
 * leaves the target as it was (same bytes, same modification time) or not created at all.
 */
class IncrementalBadInputTest {

    private static final long SIZE = 8L << 20;
    private static final String BITMAP = "daily";

    @RegisterExtension
    final NbdServers servers = new NbdServers();

    @TempDir
    Path dir;

    private Path image;
    private Path full;

    @BeforeEach
    void fullCopyAndAChange() throws IOException {
        image = dir.resolve("disk.qcow2");
        BitmapImages.create(image, SIZE, BITMAP, null);
        BitmapImages.io(image, "write -P 1 0 1M");
        full = dir.resolve("full.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", image.toString(), full.toString());
        BitmapImages.clear(image, BITMAP);
        BitmapImages.io(image, "write -P 2 2M 64k");
        // an old time, so that a write would show even within the file system's time resolution
        Files.setLastModifiedTime(full, FileTime.fromMillis(1_000_000_000_000L));
    }

    @Test
    void noSuchBitmapNamesTheOnesTheImageHas() throws IOException {
        BitmapImages.addBitmap(image, "weekly", null);
        Run r = copyIncremental("--dirty-bitmap", "monthly", image.toString(), full.toString());
        assertOneLine(r, image + ": has no dirty bitmap 'monthly' (it lists: " + BITMAP + ", weekly)");
        // extentflow info names them, as qemu-img info does
        String info = info(image);
        assertTrue(info.contains(BITMAP + " (granularity 65536, auto)") && info.contains("weekly (granularity 65536, auto)"),
                info);
    }

    private static String info(Path image) {
        StringWriter out = new StringWriter();
        int code = Extentflow.execute(new Console(new PrintWriter(out, true), new PrintWriter(out, true)), "info",
                image.toString());
        assertEquals(0, code, out.toString());
        return out.toString();
    }

    /**
     * A bitmap qemu left marked in use: a read-write qemu-nbd killed while it had the image open.
     * qemu itself refuses it ("Bitmap 'daily' is inconsistent and cannot be used").
     */
    @Test
    void inUseBitmapIsRefusedAsQemuRefusesIt() throws IOException {
        servers.qemuNbd(dir, "-f", "qcow2", image.toString()).kill();
        assertTrue(ExternalTool.check("qemu-img", "info", image.toString()).contains("in-use"),
                "the killed qemu-nbd should leave the bitmap in use");
        ExternalTool.Result qemu = ExternalTool.run("qemu-nbd", "-r", "-B", BITMAP, "-f", "qcow2", "-k",
                dir.resolve("refused.sock").toString(), image.toString());
        assertTrue(qemu.exitCode() != 0 && qemu.stderr().contains("inconsistent"), qemu.stderr());
        Run r = copyIncremental("--dirty-bitmap", BITMAP, image.toString(), full.toString());
        assertOneLine(r, image + ": dirty bitmap '" + BITMAP + "' is inconsistent: it is marked in use");
        assertTrue(info(image).contains(BITMAP + " (granularity 65536, auto, in use: inconsistent)"), info(image));
    }

    /**
     * The bitmaps extension left stale by a program that wrote the image without knowing bitmaps: it
     * clears autoclear bit 0, which qemu then takes as "every bitmap is inconsistent". No tool at hand
     * writes images that way, so the bit is cleared by hand.
     */
    @Test
    void staleBitmapsExtensionIsRefused() throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(88);
            long autoclear = f.readLong();
            assertEquals(1, autoclear & 1, "qemu-img sets the bitmaps bit");
            f.seek(88);
            f.writeLong(autoclear & ~1L);
        }
        Run r = copyIncremental("--dirty-bitmap", BITMAP, image.toString(), full.toString());
        assertOneLine(r, image + ": its dirty bitmaps are inconsistent");
    }

    @Test
    void incrementalWithoutADirtySourceWritesNothing() throws IOException {
        Run r = copyIncremental(image.toString(), full.toString());
        assertOneLine(r, "--incremental needs a dirty source: " + image + " reports no dirty extents");

        Path raw = dir.resolve("plain.raw");
        ExternalTool.check("qemu-img", "convert", "-O", "raw", image.toString(), raw.toString());
        Run fromRaw = copyIncremental("--dirty-bitmap", BITMAP, raw.toString(), full.toString());
        assertOneLine(fromRaw, raw + ": a raw file has no dirty bitmaps");
    }

    @Test
    void incrementalIntoANewFileIsRefusedBeforeCreatingIt() throws IOException {
        Path fresh = dir.resolve("new.raw");
        Run r = copyIncremental("--dirty-bitmap", BITMAP, image.toString(), fresh.toString());
        assertOneLine(r, "--incremental: " + fresh + " does not exist or is empty");
        assertFalse(Files.exists(fresh));

        Path overlay = dir.resolve("new.qcow2"); // a qcow2 target without a backing file is a new image
        Run q = copyIncremental("--dirty-bitmap", BITMAP, image.toString(), overlay.toString());
        assertOneLine(q, "--incremental: " + overlay + " is a new, empty image");
        assertFalse(Files.exists(overlay), "the refused overlay is removed");

        Path stream = dir.resolve("inc.sparse");
        Run s = copyIncremental("--dirty-bitmap", BITMAP, image.toString(), stream.toString());
        assertOneLine(s, "--incremental: a sparse stream (" + stream + ") cannot carry an increment");
        assertFalse(Files.exists(stream));
    }

    /**
     * An overlay must have its backing file's size: {@code copy --incremental ... --backing} is
     * refused before the overlay file exists, and the backing file is left as it was.
     */
    @Test
    void overlayOnABackingFileOfAnotherSizeIsRefused() throws IOException {
        Path smaller = dir.resolve("previous.qcow2");
        ExternalTool.check("qemu-img", "create", "-q", "-f", "qcow2", smaller.toString(), Long.toString(SIZE / 2));
        byte[] backingBefore = Files.readAllBytes(smaller);
        Path overlay = dir.resolve("inc.qcow2");
        Run r = copyIncremental("--dirty-bitmap", BITMAP, image.toString(), overlay.toString(),
                "--backing", "previous.qcow2");
        assertOneLine(r, "backing file previous.qcow2 (" + smaller + ") has virtual size " + SIZE / 2
                + " but the image has " + SIZE);
        assertFalse(Files.exists(overlay), "nothing is written for a refused overlay");
        assertTrue(Arrays.equals(backingBefore, Files.readAllBytes(smaller)), "the backing file was changed");
    }

    private record Run(int code, String out, String err) {
    }

    private Run copyIncremental(String... args) throws IOException {
        byte[] before = Files.readAllBytes(full);
        FileTime modified = Files.getLastModifiedTime(full);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "copy";
        all[1] = "--incremental";
        System.arraycopy(args, 0, all, 2, args.length);
        int code = Extentflow.execute(new Console(new PrintWriter(out, true), new PrintWriter(err, true)), all);
        assertTrue(Arrays.equals(before, Files.readAllBytes(full)), "the full copy was changed");
        assertEquals(modified, Files.getLastModifiedTime(full), "the full copy was written");
        return new Run(code, out.toString(), err.toString());
    }

    private static void assertOneLine(Run r, String expectedStart) {
        assertEquals(1, r.code(), r.toString());
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.get(0).startsWith("extentflow: " + expectedStart), lines.get(0));
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }
}
