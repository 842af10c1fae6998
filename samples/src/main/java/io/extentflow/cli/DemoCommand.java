package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.io.Posix;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code extentflow demo}: makes a sample sparse disk, copies it with the engine, checks the copy
 * byte for byte and says what to try next. Needs nothing but a writable temp directory.
 */
final class DemoCommand {

    private Path dir;
    private boolean keep;

    /** The command line of a new demo command. */
    static CommandSpec spec() {
        DemoCommand c = new DemoCommand();
        return CommandSpec.named("demo", "Creates a sample sparse disk image, copies it, verifies the copy byte "
                        + "for byte, and shows what to try next. Takes a few seconds; uses about 20 MiB of disk.")
                .option("--dir", "DIR", "Directory for the sample files, kept there (default: a new temporary "
                        + "directory, removed at the end unless --keep).", null, v -> c.dir = Path.of(v))
                .flag("--keep", "Keep the temporary directory with the sample files, to try the next steps on them.",
                        () -> c.keep = true)
                .action(c::call);
    }

    private int call(Console console) throws IOException {
        Path d = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("extentflow-demo-");
        boolean removeAtEnd = dir == null && !keep;
        try {
            return run(console, d, removeAtEnd);
        } finally {
            if (removeAtEnd) {
                removeSamples(d);
            }
        }
    }

    /** Deletes the temporary directory this demo made, with what it wrote there. */
    private static void removeSamples(Path d) throws IOException {
        try (var files = Files.list(d)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(d);
    }

    private int run(Console console, Path d, boolean removeAtEnd) throws IOException {
        PrintWriter out = console.out();
        Path disk = d.resolve("disk.raw");
        Path copy = d.resolve("copy.raw");
        Files.deleteIfExists(copy);

        DemoImage.Layout layout = DemoImage.write(disk);
        out.printf("Sample disk %s%n", disk);
        out.printf("  %s virtual: %s of data in %d runs, %s of written zeros, the rest holes "
                        + "(%s allocated on disk)%n",
                Sizes.human(layout.size()), Sizes.human(layout.dataBytes()), layout.dataRuns(),
                Sizes.human(layout.zeroBytes()), Sizes.human(Posix.allocatedBytes(disk)));

        CopyResult result;
        ImageSource src = Endpoints.source(disk.toString()).block();
        try (src) {
            ImageSink dst = Endpoints.sink(copy.toString(), src.size()).block();
            try (dst) {
                result = Copy.from(src).to(dst).run().block();
            }
        }
        out.printf("Copied it to %s%n  %s%n", copy, CopySummary.line(result, 0));
        out.printf("  read %s from the source; the copy has %s allocated (holes kept, written zeros dropped)%n",
                Sizes.human(result.readBytes()), Sizes.human(Posix.allocatedBytes(copy)));

        long mismatch = firstDifference(disk, copy);
        if (mismatch >= 0) {
            throw new IllegalStateException("verification failed: " + copy + " differs from " + disk
                    + " at offset " + mismatch);
        }
        out.printf("Verified: the copy is identical to the source, byte for byte (%s compared)%n%n",
                Sizes.human(layout.size()));

        String cmd = System.getProperty("extentflow.command", "extentflow");
        if (removeAtEnd) {
            out.printf("Removed %s again. To try the next steps on the sample, run '%s demo --keep'.%n", d, cmd);
            out.flush();
            return ExitCodes.OK;
        }
        out.println("Try next:");
        out.printf("  %s map %s%n      where the data is (the same text as qemu-img map)%n", cmd, disk);
        out.printf("  %s map --output=json %s%n      the same as qemu-img map --output=json, for scripts%n", cmd, disk);
        out.printf("  %s info %s%n      format, sizes, allocation%n", cmd, disk);
        out.printf("  %s copy --json %s %s%n      a copy with a JSON summary%n", cmd, disk, d.resolve("copy2.raw"));
        out.printf("  rm -r %s%n      when done%n", d);
        out.flush();
        return ExitCodes.OK;
    }

    /** The first offset where the files differ, or -1 when they are equal. Blocking. */
    private static long firstDifference(Path a, Path b) throws IOException {
        try (FileChannel ca = FileChannel.open(a); FileChannel cb = FileChannel.open(b)) {
            if (ca.size() != cb.size()) {
                return Math.min(ca.size(), cb.size());
            }
            ByteBuffer ba = ByteBuffer.allocateDirect(4 << 20);
            ByteBuffer bb = ByteBuffer.allocateDirect(4 << 20);
            for (long pos = 0; pos < ca.size(); pos += ba.capacity()) {
                readFully(ca, ba.clear(), pos);
                readFully(cb, bb.clear(), pos);
                int m = ba.flip().mismatch(bb.flip());
                if (m >= 0) {
                    return pos + m;
                }
            }
            return -1;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining() && ch.read(b, pos + b.position()) > 0) {
            // until the buffer is full or the file ends
        }
    }
}
