package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.cli.args.UsageException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.imageio.HttpOptions;
import io.extentflow.engine.imageio.Ticket;
import io.extentflow.server.ImageServer;
import io.extentflow.server.ServerConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code extentflow train --dir DIR [--kind KIND]} (hidden): runs each kind of copy once, quietly,
 * for the launcher's ahead-of-time cache. The JVM records the classes a run loads and how its
 * methods behave; a cache trained on file copies only left the HTTP client and server, the sparse
 * streams and Netty to be loaded and interpreted anew by every network command. NBD copies are
 * trained against {@code nbdkit memory} when nbdkit is installed (without them an NBD copy loaded
 * or generated some 100 more classes outside the cache); otherwise NBD is left out. Incremental
 * copies (a qcow2's persistent bitmap, and {@code qemu-nbd -B}) into an overlay and in place are
 * trained when qemu-img and qemu-io (and qemu-nbd) are installed to make the bitmap.
 *
 * <p>{@code --kind} trains for one kind of command only: {@code local} (copies between files,
 * {@code map}, {@code info}), {@code nbd} (copies to and from NBD), {@code http} (copies to and
 * from imageio HTTP, per range and as sparse streams) or {@code full} (everything, the default). The
 * JVM maps and relocates the whole cache at every start, so a command gets the smallest cache that
 * covers it: an NBD copy started 50 ms sooner with a cache of 31 MB than with the full 46 MB
 * (perf/README.md, "Memory faults"), and a mapped cache is resident memory too (an HTTP download
 * peaked at 135 MiB with the full cache; perf/README.md, "Memory").
 */
final class TrainCommand {

    private static final Duration TIMEOUT = Duration.ofMinutes(1);
    /** Extent windows in the wide training image: enough for one fetched ahead of the one in use. */
    private static final int WIDE_WINDOWS = 3;
    private static final String READ_TICKET = "read";
    private static final String WRITE_TICKET = "write";

    /** The kinds of cache the launcher asks for. */
    private enum Kind { FULL, LOCAL, NBD, HTTP }

    private Path dir;
    private Kind kind = Kind.FULL;
    private boolean serveOnly;

    /** The command line of a new train command (hidden from help: the launcher runs it). */
    static CommandSpec spec() {
        TrainCommand c = new TrainCommand();
        return CommandSpec.named("train",
                        "Run each kind of copy once (files, imageio HTTP, sparse streams, NBD) for the JVM's cache.")
                .hidden()
                .requiredOption("--dir", "DIR", "An empty directory to work in.", v -> c.dir = Path.of(v))
                .option("--kind", "KIND", "What to train for: full, local (files), nbd or http.", "full", c::kind)
                .flag("--serve", "Only serve the training images over HTTP (for --kind http): print the port, "
                        + "serve until standard input ends.", () -> c.serveOnly = true)
                .action(c::call);
    }

    private void kind(String value) {
        kind = switch (value) {
            case "full" -> Kind.FULL;
            case "local" -> Kind.LOCAL;
            case "nbd" -> Kind.NBD;
            case "http" -> Kind.HTTP;
            default -> throw new UsageException("extentflow train",
                    "--kind must be full, local, nbd or http, not '" + value + "'");
        };
    }

    private int call(Console console) throws Exception {
        if (serveOnly) {
            return serveTrainingImages(console);
        }
        Files.createDirectories(dir);
        cli("demo", "--dir", dir.toString());
        Path disk = dir.resolve("disk.raw");
        long size = Files.size(disk);
        Path wide = wideImage(disk);
        if (kind == Kind.FULL) {
            try (ImageServer server = startServer(disk, size)) {
                trainHttp(disk, server.imageUrl(READ_TICKET), server.imageUrl(WRITE_TICKET));
            }
            // checksum runs on the full cache: its hash code, profiled here, is compiled sooner
            cli("checksum", disk.toString());
        }
        if (kind == Kind.HTTP) {
            trainHttpAgainstServerProcess(disk);
            return ExitCodes.OK;
        }
        Path bitmapped = bitmapImage(disk);
        if (kind != Kind.NBD) {
            trainLocal(disk, wide);
            if (bitmapped != null) {
                trainIncremental(bitmapped.toString(), bitmapped);
            }
        }
        if (kind != Kind.LOCAL) {
            trainNbd(wide, Files.size(wide));
            if (bitmapped != null) {
                trainIncrementalNbd(bitmapped);
            }
        }
        return ExitCodes.OK;
    }

    /**
     * A sparse image over a few extent windows, with the demo image's data at the start of each: the demo
     * image fits in one window, and a copy of one window never runs the code that fetches the next
     * (its classes were then loaded from the jar, and checked, in every real copy). The first window
     * is a copy of the demo image (holes stay holes); the others get its first MiB: the copy code has
     * run on all of it already, only the fetching of further windows is new.
     */
    private Path wideImage(Path disk) throws IOException {
        Path wide = dir.resolve("wide.raw");
        copy(disk.toString(), wide.toString(), EndpointOptions.defaults());
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(Files.size(disk), 1 << 20));
        try (FileChannel in = FileChannel.open(disk);
             FileChannel out = FileChannel.open(wide, StandardOpenOption.WRITE)) {
            while (head.hasRemaining() && in.read(head, head.position()) >= 0) {
                // until the buffer is full
            }
            for (int i = 1; i < WIDE_WINDOWS; i++) {
                head.flip();
                while (head.hasRemaining()) {
                    out.write(head, i * CopyOptions.DEFAULT_WINDOW_SIZE + head.position());
                }
            }
        }
        return wide;
    }

    /** Sparse-stream copies between files, and the commands people time on files. */
    private void trainLocal(Path disk, Path wide) {
        copy(disk.toString(), dir.resolve("disk.sparse").toString(), EndpointOptions.defaults());
        copy(dir.resolve("disk.sparse").toString(), dir.resolve("unpacked.raw").toString(), EndpointOptions.defaults());
        // the commands people time: their own classes and code paths belong in the cache too
        cli("copy", "--no-progress", "--no-flush", disk.toString(), dir.resolve("cli-copy.raw").toString());
        cli("copy", "--no-progress", "--no-flush", wide.toString(), dir.resolve("cli-wide.raw").toString());
        cli("map", "--output=json", disk.toString());
        cli("info", disk.toString());
        // qcow2 both ways, plain and zlib-compressed: without these the qcow2 reader's classes were
        // loaded from the jar by every qcow2 copy (30 of them in a copy of an empty image)
        Path qcow2 = dir.resolve("cli.qcow2");
        Path zlib = dir.resolve("cli-zlib.qcow2");
        cli("copy", "--no-progress", "--no-flush", disk.toString(), qcow2.toString());
        cli("copy", "--no-progress", "--no-flush", "--compress=zlib", disk.toString(), zlib.toString());
        cli("copy", "--no-progress", "--no-flush", qcow2.toString(), dir.resolve("cli-qcow2.raw").toString());
        cli("copy", "--no-progress", "--no-flush", zlib.toString(), dir.resolve("cli-zlib.raw").toString());
        cli("info", qcow2.toString());
    }

    /**
     * A qcow2 of the demo image with a persistent bitmap {@code b} and some dirty clusters (data and
     * zeros), made with qemu-img and qemu-io when they are installed, else null (incremental copies
     * then start without their head start). Without it an incremental copy loaded some 45 classes from
     * the jar (the bitmap reader, the incremental source, the backing file probe, their Reactor
     * operators) and linked their lambdas anew at every start.
     */
    private Path bitmapImage(Path disk) {
        Path image = dir.resolve("bitmap.qcow2");
        copy(disk.toString(), image.toString(), EndpointOptions.defaults());
        boolean made = run("qemu-img", "bitmap", "--add", "--enable", image.toString(), "b")
                && run("qemu-io", "-f", "qcow2", "-c", "write -P 7 0 64k", "-c", "write -P 8 1M 128k",
                        "-c", "write -z 2M 64k", image.toString());
        return made ? image : null;
    }

    /** Incremental copies from {@code source}'s bitmap: into an overlay on a full copy, and in place into one. */
    private void trainIncremental(String source, Path bitmapped) {
        // the previous full copy: the image as our qcow2 writer wrote it, under another name, and raw
        Path full = dir.resolve("full.qcow2");
        Path fullRaw = dir.resolve("full.raw");
        if (!Files.exists(full)) {
            copy(bitmapped.toString(), full.toString(), EndpointOptions.defaults());
            copy(bitmapped.toString(), fullRaw.toString(), EndpointOptions.defaults());
        }
        Path overlay = dir.resolve("overlay-" + (source.startsWith("nbd") ? "nbd" : "file") + ".qcow2");
        cli("copy", "--no-progress", "--no-flush", "--incremental", "--dirty-bitmap", "b", source,
                overlay.toString(), "--backing", full.getFileName().toString());
        cli("copy", "--no-progress", "--no-flush", "--incremental", "--dirty-bitmap", "b", source, fullRaw.toString());
    }

    /** Incremental copies from {@code qemu-nbd -B b} serving {@code bitmapped}, if qemu-nbd is installed. */
    private void trainIncrementalNbd(Path bitmapped) throws Exception {
        Path socket = dir.resolve("nbd-bitmap.sock");
        Process server;
        try {
            server = new ProcessBuilder("qemu-nbd", "-r", "-t", "-k", socket.toString(), "-f", "qcow2", "-B", "b",
                    bitmapped.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            return; // no qemu-nbd: incremental NBD copies start without their head start
        }
        try {
            if (waitForSocket(server, socket)) {
                trainIncremental("nbd+unix:///?socket=" + socket, bitmapped);
            }
        } finally {
            server.destroy();
            server.waitFor();
        }
    }

    /** True once {@code server} created {@code socket} (it is ready); false if it died or took too long. */
    private static boolean waitForSocket(Process server, Path socket) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!Files.exists(socket)) {
            if (!server.isAlive() || System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** Runs a helper program quietly; true if it ran and exited 0 (false if it is not installed). */
    private static boolean run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Downloads and uploads through an image server, whole and as sparse streams. */
    private void trainHttp(Path disk, String readUrl, String writeUrl) {
        EndpointOptions stream = EndpointOptions.defaults().with(HttpOptions.HTTP_STREAM, true);
        copy(readUrl, dir.resolve("downloaded.raw").toString(), EndpointOptions.defaults());
        copy(readUrl, dir.resolve("streamed.raw").toString(), stream);
        copy(disk.toString(), writeUrl, EndpointOptions.defaults());
        copy(disk.toString(), writeUrl, stream);
        // the commands people time, as the launcher runs them (their own classes and paths)
        cli("copy", "--no-progress", "--no-flush", readUrl, dir.resolve("cli-downloaded.raw").toString());
        cli("copy", "--no-progress", "--no-flush", "--http-stream", readUrl, dir.resolve("cli-streamed.raw").toString());
        cli("copy", "--no-progress", "--no-flush", disk.toString(), writeUrl);
    }

    /**
     * The http cache serves HTTP copies only, so the server that training copies from runs in another
     * JVM (this command with {@code --serve}): in this one its classes (Reactor Netty's server, the
     * tickets, the handlers) would be recorded too, and every HTTP copy would map them, resident, at
     * start (perf/README.md, "Memory").
     */
    private void trainHttpAgainstServerProcess(Path disk) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process server = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                Extentflow.class.getName(), "train", "--serve", "--dir", dir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.US_ASCII))) {
            String baseUrl = out.readLine();
            if (baseUrl == null) {
                throw new IllegalStateException("the training image server exited " + server.waitFor() + " before serving");
            }
            trainHttp(disk, baseUrl + READ_TICKET, baseUrl + WRITE_TICKET);
        } finally {
            server.getOutputStream().close();
            if (!server.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    /** {@code --serve}: serves the images of {@code --dir} until standard input ends; first prints their base URL. */
    private int serveTrainingImages(Console console) throws IOException {
        Path disk = dir.resolve("disk.raw");
        try (ImageServer server = startServer(disk, Files.size(disk))) {
            String url = server.imageUrl(READ_TICKET);
            console.out().println(url.substring(0, url.length() - READ_TICKET.length()));
            console.out().flush();
            System.in.transferTo(OutputStream.nullOutputStream());
        }
        return ExitCodes.OK;
    }

    /** An image server on a free loopback port with a read ticket on {@code disk} and a write ticket on a new file. */
    private ImageServer startServer(Path disk, long size) throws IOException {
        Path uploaded = dir.resolve("uploaded.raw");
        Files.deleteIfExists(uploaded);
        Files.createFile(uploaded);
        List<Ticket> tickets = List.of(ticket(READ_TICKET, disk, size, Set.of("read")),
                ticket(WRITE_TICKET, uploaded, size, Set.of("read", "write")));
        ServerConfig config = ServerConfig.defaults().withPort(0).withControlSocket(dir.resolve("control.sock"));
        return ImageServer.start(config, new SimpleMeterRegistry(), null, null, tickets).block(TIMEOUT);
    }

    /** Copies to and from an {@code nbdkit memory} export over a Unix socket, if nbdkit is installed. */
    private void trainNbd(Path image, long size) throws Exception {
        Path socket = dir.resolve("nbd.sock");
        Process server;
        try {
            server = new ProcessBuilder("nbdkit", "--exit-with-parent", "-f", "-U", socket.toString(),
                    "memory", Long.toString(size))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            return; // no nbdkit on PATH: NBD commands start without their head start
        }
        try {
            // nbdkit creates the socket when it is ready to accept connections; one that cannot
            // start only costs NBD commands their head start
            if (!waitForSocket(server, socket)) {
                return;
            }
            String uri = "nbd+unix:///?socket=" + socket;
            cli("copy", "--no-progress", "--no-flush", image.toString(), uri);
            cli("copy", "--no-progress", "--no-flush", uri, dir.resolve("from-nbd.raw").toString());
            cli("map", "--output=json", uri);
        } finally {
            server.destroy();
            server.waitFor();
        }
    }

    /** Runs an extentflow command line quietly; fails unless it succeeds. */
    private static void cli(String... args) {
        PrintWriter quiet = new PrintWriter(Writer.nullWriter());
        int code = Extentflow.execute(new Console(quiet, quiet), args);
        if (code != ExitCodes.OK) {
            throw new IllegalStateException("training run 'extentflow " + String.join(" ", args) + "' exited " + code);
        }
    }

    private static Ticket ticket(String id, Path file, long size, Set<String> ops) {
        return new Ticket(id, size, file.toUri().toString(), ops, 300, Ticket.DEFAULT_INACTIVITY_TIMEOUT, true,
                "train-" + id, null);
    }

    private static void copy(String from, String to, EndpointOptions options) {
        try (ImageSource src = Endpoints.source(from, options).block(TIMEOUT);
             ImageSink dst = Endpoints.sink(to, src.size(), options).block(TIMEOUT)) {
            Copy.from(src).to(dst).run().block(TIMEOUT);
        }
    }
}
