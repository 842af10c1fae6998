package io.extentflow.cli;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.cli.args.UsageException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyProgress;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.dirty.IncrementalSource;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.FileAddress;
import io.extentflow.engine.endpoint.StreamAddress;
import io.extentflow.engine.io.Posix;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** {@code extentflow copy SRC DST}: copies an image, reading only its data. */
final class CopyCommand {

    /** The engine's defaults, spelled for --help (CopyCommandTest checks they agree). */
    static final String DEFAULT_REQUEST_SIZE = "4MiB";
    static final String NBD_REQUEST_SIZE = "512KiB";
    static final String NBD_WRITE_SIZE = "1MiB";
    static final String DEFAULT_MAX_IN_FLIGHT = "32MiB";
    /** The --request-size that lets the copy choose, as the user spells it. */
    static final String AUTO = "auto";

    private final EndpointFlags endpoints = EndpointFlags.forCopying();
    private String source;
    private String target;
    private Boolean progress;
    private Long requestSize;
    private long maxInFlight;
    private boolean noDetectZeroes;
    private boolean targetIsZero;
    private boolean noFlush;
    private boolean json;
    private boolean verify;
    private boolean keepPartial;
    private boolean incremental;

    /** The image size before the source opened (not {@link ImageSource#UNKNOWN_SIZE}: that is a stream's). */
    private static final long UNOPENED = Long.MIN_VALUE;

    /** How long an interrupted copy waits for an end still opening, to close it. */
    private static final Duration OPENING_LIMIT = Duration.ofSeconds(5);

    /** The command line of a new copy command. */
    static CommandSpec spec() {
        CopyCommand c = new CopyCommand();
        return CommandSpec.named("copy",
                        "Copies image SRC to DST, reading only data extents and turning zeros into zero requests "
                                + "(or nothing, on a new target).",
                        "",
                        "Addresses: a file path or file: URI (raw or qcow2, by magic), nbd://host[:port]/export, "
                                + "nbd+unix:///export?socket=PATH, http(s)://host:port/images/TICKET, "
                                + "- (a sparse stream on standard input or output), a path ending in .sparse "
                                + "(a sparse-stream file; see docs/sparse-stream.md).",
                        "A new or empty target file is created sparse; an existing one must have the source's size.",
                        "",
                        "Sizes take binary suffixes: 4096, 4k, 4M, 64MiB, 1G.")
                .parameter("SRC", "Image to read.", v -> c.source = v)
                .parameter("DST", "Where to write it.", v -> c.target = v)
                .with(c.endpoints::define)
                .negatableFlag("--progress", "Show a progress bar on standard error (default: only when it is a "
                        + "terminal).", v -> c.progress = v)
                .option("--request-size", "SIZE", "Largest data request, a multiple of 4096, or 'auto' (the "
                        + "default: " + DEFAULT_REQUEST_SIZE + "; " + NBD_REQUEST_SIZE + " from an NBD source, "
                        + "else " + NBD_WRITE_SIZE + " to an NBD target).", null,
                        v -> c.requestSize = v.strip().equals(AUTO) ? null : Sizes.parse(v))
                .option("--max-in-flight", "SIZE", "Data buffer bytes in flight at most; bounds memory. At least "
                        + "the request size (" + DEFAULT_REQUEST_SIZE + " with 'auto').",
                        DEFAULT_MAX_IN_FLIGHT, v -> c.maxInFlight = Sizes.parse(v))
                .flag("--no-detect-zeroes", "Write all-zero blocks found in data as data.",
                        () -> c.noDetectZeroes = true)
                .flag("--target-is-zero", "The existing target already reads as zeros: send nothing for zero "
                        + "ranges.", () -> c.targetIsZero = true)
                .flag("--no-flush", "Do not flush the target at the end.", () -> c.noFlush = true)
                .flag("--json", "Print the summary as one JSON object (for scripts).", () -> c.json = true)
                .flag("--verify", "Checksum the source from the data the copy reads, then read the target back "
                        + "(or ask its imageio server) and fail if the checksums differ.", () -> c.verify = true)
                .flag("--incremental", "Copy only what changed: the ranges the source's dirty bitmap marks "
                        + "(--dirty-bitmap NAME of an NBD export or qcow2 image, or an imageio ticket's dirty extents), "
                        + "into an existing full copy (in place) or a qcow2 overlay on one; clean ranges are left "
                        + "untouched.", () -> c.incremental = true)
                .flag("--keep-partial", "On Ctrl-C (SIGINT) or SIGTERM, keep a target file this copy created "
                        + "(by default it is removed; an existing target is never removed).",
                        () -> c.keepPartial = true)
                .action(c::call);
    }

    private int call(Console console) {
        CopyOptions options = options();
        refuseInapplicableOptions();
        refuseCopyOntoItself();
        refuseIncrementalIntoNewTarget();
        if (StreamAddress.isStdio(target) && Terminal.stdoutIsTerminal()) {
            // as zstd and gzip do: binary frames would only garble the terminal
            throw new IllegalArgumentException("refusing to write a sparse stream to a terminal "
                    + "(redirect standard output to a file or a pipe)");
        }
        Path createdTarget = targetThisCopyCreates();
        try (Interruption interruption = Interruption.watch()) {
            // The target opens while the source does: an NBD or HTTP target connects and makes its
            // round trips (handshake, OPTIONS) meanwhile, and checks the size once it comes. A file
            // target waits for the size, so nothing is created when the source fails.
            Sinks.One<Long> size = Sinks.one();
            Mono<ImageSink> opening = Endpoints.sink(target, size.asMono(),
                    endpoints.options()).cache();
            opening.subscribe(d -> { }, e -> { });
            Mono<ImageSource> sourceOpening = Endpoints.source(source, endpoints.options()).cache();
            sourceOpening.subscribe(s -> { }, e -> { });
            AtomicReference<CopyProgress> last = new AtomicReference<>();
            long[] imageSize = {UNOPENED};
            try {
                return copy(console, options, interruption, size, sourceOpening, opening, last, imageSize);
            } catch (Interruption.Interrupted e) {
                // a target still waiting for the size gives up now, before it creates anything
                size.tryEmitError(new IllegalStateException("the copy was interrupted"));
                return interrupted(console, interruption, createdTarget, sourceOpening, opening, last.get(),
                        imageSize[0]);
            } finally {
                // no-op once the size was given; else a target that connected meanwhile closes
                size.tryEmitError(new IllegalStateException("the source could not be opened"));
            }
        }
    }

    /** An endpoint option given for ends that do not take it (--compress to a raw file), before anything opens. */
    private void refuseInapplicableOptions() {
        try {
            Endpoints.requireApplicable(source, target, endpoints.options(), o -> "--" + o.name());
        } catch (IllegalArgumentException e) {
            throw new UsageException("extentflow copy", e.getMessage());
        }
    }

    /**
     * A file copied onto itself (the same path, another spelling, a symbolic or a hard link) would
     * be read while it is rewritten: refused when both are the same device and inode.
     */
    private void refuseCopyOntoItself() {
        if (!FileAddress.isFile(source) || !FileAddress.isFile(target)
                || StreamAddress.isStream(source) || StreamAddress.isStream(target)) {
            return;
        }
        Path from = FileAddress.toPath(source);
        Path to = FileAddress.toPath(target);
        try {
            if (Files.exists(from) && Files.exists(to) && Files.isSameFile(from, to)) {
                throw new IllegalArgumentException("source and target are the same file: " + source
                        + (source.equals(target) ? "" : " and " + target));
            }
        } catch (IOException e) {
            // either cannot be looked at: opening it says why
        }
    }

    /**
     * An incremental copy writes only what changed, so its target must hold the rest already: a
     * file target that does not exist yet (or is empty) is refused before anything is opened, unless it
     * is a qcow2 image, which may be an overlay on a full copy (the sink then checks its backing file).
     */
    private void refuseIncrementalIntoNewTarget() {
        if (!incremental) {
            return;
        }
        if (verify) {
            throw new UsageException("extentflow copy", "--verify checksums the whole image, but --incremental "
                    + "reads only what changed; verify the result with a full 'extentflow checksum' instead");
        }
        if (targetIsZero) {
            throw new UsageException("extentflow copy", "--target-is-zero would leave dirty zero ranges unwritten; "
                    + "an incremental target holds an older copy of the image");
        }
        if (StreamAddress.isStream(target)) {
            throw new IllegalArgumentException("--incremental: a sparse stream (" + target + ") cannot carry an "
                    + "increment: the ranges it has no frame for read as zeros; copy into a full copy or an overlay");
        }
        if (!FileAddress.isFile(target)) {
            return;
        }
        Path path = FileAddress.toPath(target);
        boolean qcow2 = path.getFileName() != null && path.getFileName().toString().toLowerCase(Locale.ROOT)
                .endsWith(".qcow2");
        try {
            if (!qcow2 && (!Files.exists(path) || (Files.isRegularFile(path) && Files.size(path) == 0))) {
                throw new IllegalArgumentException("--incremental: " + target + " does not exist or is empty: an "
                        + "incremental copy goes into an existing full copy of " + source
                        + " or into a qcow2 overlay on one");
            }
        } catch (IOException e) {
            // cannot be looked at: opening it says why
        }
    }

    /** The source seen through its dirty bitmap, or a failure saying how to give one. */
    private ImageSource incrementalView(ImageSource src) {
        try {
            return IncrementalSource.of(src);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--incremental needs a dirty source: " + source + " reports no "
                    + "dirty extents (give --dirty-bitmap NAME for an NBD export or a qcow2 image, or an imageio "
                    + "ticket with dirty extents)", e);
        }
    }

    /**
     * The target file this copy creates, to remove should it be interrupted: a file address where
     * nothing exists yet (not even a dangling link). An existing target is never removed.
     */
    private Path targetThisCopyCreates() {
        if (!FileAddress.isFile(target) || StreamAddress.isStream(target)) {
            return null;
        }
        Path path = FileAddress.toPath(target);
        return Files.exists(path, LinkOption.NOFOLLOW_LINKS) ? null : path;
    }

    /**
     * After a signal: the copy was cancelled and the ends the command held were closed on the way
     * here; the others are closed once they open (closing an end twice is harmless). Then a target file the copy created goes
     * (unless --keep-partial), and the one line says what the target holds.
     */
    private int interrupted(Console console, Interruption interruption, Path createdTarget,
                            Mono<ImageSource> sourceOpening, Mono<ImageSink> opening, CopyProgress last,
                            long imageSize) {
        try {
            ImageSource opened = closeOnceOpen(sourceOpening);
            closeOnceOpen(opening);
            // a signal during the source's opening: its size is known once it opened
            long size = imageSize != UNOPENED ? imageSize : opened != null ? opened.size() : UNOPENED;
            String kept = "";
            if (createdTarget != null) {
                if (keepPartial) {
                    kept = "; kept as --keep-partial asks";
                } else {
                    try {
                        // not there when the signal came before the target opened
                        kept = Files.deleteIfExists(createdTarget) ? "; removed it" : "";
                    } catch (IOException e) {
                        kept = "; could not remove it: " + Errors.message(e);
                    }
                }
            }
            long done = last == null ? 0 : last.done();
            String of = size >= 0 ? Sizes.human(done) + " of " + Sizes.human(size) + " done"
                    : size == ImageSource.UNKNOWN_SIZE ? Sizes.human(done) + " of a stream done"
                    : "nothing done: the source " + source + " was still opening";
            console.err().println("extentflow: interrupted: " + target + " is incomplete (" + of + ")" + kept);
            console.err().flush();
            return ExitCodes.INTERRUPTED;
        } finally {
            interruption.cleanedUp();
        }
    }

    /**
     * Closes an end that opened, or that opens within a moment (a file being created on the I/O
     * threads must be closed before it is removed), and returns it (null if it did not open); one
     * that fails to open holds nothing.
     */
    private static <T extends AutoCloseable> T closeOnceOpen(Mono<T> opening) {
        T end = null;
        try {
            end = opening.onErrorResume(e -> Mono.empty()).block(OPENING_LIMIT);
            if (end != null) {
                end.close();
            }
        } catch (Exception e) {
            // exiting anyway; the process's end releases what a failed close held
        }
        return end;
    }

    private int copy(Console console, CopyOptions options, Interruption interruption, Sinks.One<Long> size,
                     Mono<ImageSource> sourceOpening, Mono<ImageSink> opening,
                     AtomicReference<CopyProgress> last, long[] imageSize) {
        // Made while both ends open, on a thread that would only wait: the first registry of a run
        // initialises Micrometer, some milliseconds that came between the open ends and the first read.
        MeterRegistry registry = new CompositeMeterRegistry();
        ImageSource src = interruption.await(sourceOpening).orElseThrow();
        try (src) {
            imageSize[0] = src.size();
            // before the target hears the size: a source without dirty extents writes nothing
            ImageSource copied = incremental ? incrementalView(src) : src;
            Verification verification = verify ? Verification.of(src, target, endpoints.options()) : null;
            size.tryEmitValue(src.size());
            ImageSink dst = interruption.await(opening.onErrorMap(Posix.ErrnoException.class,
                    e -> targetOpenFailure(e))).orElseThrow();
            if (incremental && dst.capabilities().knownZero()) {
                dst.close();
                throw new IllegalArgumentException("--incremental: " + target + " is a new, empty image: an "
                        + "incremental copy goes into an existing full copy of " + source
                        + " or into a qcow2 overlay on one");
            }
            UnallocatedCount counted = new UnallocatedCount(copied);
            try (dst; CopyProgressBar bar = CopyProgressBar.start(showProgress(), "copy", src.size())) {
                CopyResult result;
                try {
                    Copy copy = Copy.from(counted).to(dst).options(options).metrics(registry);
                    result = interruption.await((verification == null ? copy : copy.observe(verification.observer()))
                            .run(p -> {
                                last.set(p);
                                bar.update(p);
                            })).orElseThrow();
                } catch (Interruption.Interrupted e) {
                    bar.close(); // before the line, so the bar does not redraw over it
                    throw e;
                } catch (RuntimeException e) {
                    throw new CopyFailedException(e, last.get());
                }
                bar.finish();
                bar.close(); // before the summary, so the bar does not redraw over it
                dst.close();
                String checksum = verification == null ? null : verification.check(target, endpoints.options());
                // with the image on standard output, the summary goes to standard error
                var out = StreamAddress.isStdio(target) ? console.err() : console.out();
                out.println(json ? CopySummary.json(source, target, result, counted.bytes(), checksum)
                        : incremental ? CopySummary.incrementalLine(result)
                        : CopySummary.line(result, counted.bytes())
                                + (checksum == null ? "" : "; verified, blake2b " + checksum));
                out.flush();
            }
        }
        return ExitCodes.OK;
    }

    /**
     * A system call that failed while the target file opened, with the file and the operation named
     * (the engine's error names only the call: "Read-only file system (open, errno 30)").
     */
    private IOException targetOpenFailure(Posix.ErrnoException e) {
        String reason = Posix.strerror(e.errno());
        String path = FileAddress.isFile(target) ? FileAddress.toPath(target).toString() : target;
        return new IOException("cannot open " + path + " for writing: "
                + (reason.isEmpty() ? e.getMessage() : Character.toLowerCase(reason.charAt(0)) + reason.substring(1)),
                e);
    }

    private CopyOptions options() {
        if (requestSize != null && requestSize > Integer.MAX_VALUE) {
            throw new UsageException("extentflow copy", "--request-size " + requestSize + " is too large");
        }
        if (requestSize != null && requestSize == 0) {
            // 0 is the engine's word for "automatic"; on the command line that is spelled 'auto'
            throw new UsageException("extentflow copy", "--request-size 0: request size must be a positive "
                    + "multiple of 4096, or '" + AUTO + "'");
        }
        // With 'auto' the copy may choose up to the default request size: fewer bytes in flight
        // than one request would leave it a single undersized buffer (a 64 MiB copy took 220 s).
        long leastInFlight = requestSize != null ? requestSize : CopyOptions.DEFAULT_REQUEST_SIZE;
        if (maxInFlight < leastInFlight) {
            throw new UsageException("extentflow copy", "--max-in-flight " + maxInFlight
                    + " must be at least the request size (" + Sizes.human(leastInFlight) + ")");
        }
        try {
            CopyOptions options = CopyOptions.defaults();
            if (requestSize != null) {
                options = options.withRequestSize(requestSize.intValue());
            }
            return options
                    .withMaxInFlight(maxInFlight)
                    .withDetectZeroes(!noDetectZeroes)
                    .withTargetIsZero(targetIsZero)
                    // a sparse stream ends with its stop frame, written by the flush
                    .withFlush(!noFlush || StreamAddress.isStream(target));
        } catch (IllegalArgumentException e) {
            throw new UsageException("extentflow copy", e.getMessage());
        }
    }

    private boolean showProgress() {
        return progress != null ? progress : !json && Terminal.stderrIsTerminal();
    }
}
