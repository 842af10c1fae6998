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
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.StreamAddress;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** {@code extentflow copy SRC DST}: copies an image, reading only its data. */
final class CopyCommand {

    /** The engine's defaults, spelled for --help (CopyCommandTest checks they agree). */
    static final String DEFAULT_REQUEST_SIZE = "4MiB";
    static final String NBD_REQUEST_SIZE = "512KiB";
    static final String NBD_WRITE_SIZE = "1MiB";
    static final String DEFAULT_MAX_IN_FLIGHT = "64MiB";

    private final EndpointFlags endpoints = new EndpointFlags();
    private String source;
    private String target;
    private Boolean progress;
    private Long requestSize;
    private long maxInFlight;
    private boolean noDetectZeroes;
    private boolean targetIsZero;
    private boolean noFlush;
    private boolean keepCache;
    private boolean json;
    private boolean verify;

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
                .option("--request-size", "SIZE", "Largest data request (default: " + DEFAULT_REQUEST_SIZE
                        + "; " + NBD_REQUEST_SIZE + " from an NBD source, else " + NBD_WRITE_SIZE
                        + " to an NBD target).", null, v -> c.requestSize = Sizes.parse(v))
                .option("--max-in-flight", "SIZE", "Data buffer bytes in flight at most; bounds memory.",
                        DEFAULT_MAX_IN_FLIGHT, v -> c.maxInFlight = Sizes.parse(v))
                .flag("--no-detect-zeroes", "Write all-zero blocks found in data as data.",
                        () -> c.noDetectZeroes = true)
                .flag("--target-is-zero", "The existing target already reads as zeros: send nothing for zero "
                        + "ranges.", () -> c.targetIsZero = true)
                .flag("--no-flush", "Do not flush the target at the end.", () -> c.noFlush = true)
                .flag("--keep-cache", "Leave what is written to a target file in the page cache. By default it "
                        + "bypasses the cache (direct I/O) or is written back to disk as the copy goes and dropped "
                        + "from the cache: the copy never reads it back, and caching it would push out what the "
                        + "machine was using.",
                        () -> c.keepCache = true)
                .flag("--json", "Print the summary as one JSON object (for scripts).", () -> c.json = true)
                .flag("--verify", "Checksum the source from the data the copy reads, then read the target back "
                        + "(or ask its imageio server) and fail if the checksums differ.", () -> c.verify = true)
                .action(c::call);
    }

    private int call(Console console) {
        CopyOptions options = options();
        // The target opens while the source does: an NBD or HTTP target connects and makes its
        // round trips (handshake, OPTIONS) meanwhile, and checks the size once it comes. A file
        // target waits for the size, so nothing is created when the source fails.
        Sinks.One<Long> size = Sinks.one();
        Mono<ImageSink> opening = Endpoints.sink(target, size.asMono(), endpoints.options().withKeepCache(keepCache))
                .cache();
        opening.subscribe(d -> { }, e -> { });
        try {
            return copy(console, options, size, opening);
        } finally {
            // no-op once the size was given; else a target that connected meanwhile closes
            size.tryEmitError(new IllegalStateException("the source could not be opened"));
        }
    }

    private int copy(Console console, CopyOptions options, Sinks.One<Long> size, Mono<ImageSink> opening) {
        Mono<ImageSource> sourceOpening = Endpoints.source(source, endpoints.options()).cache();
        sourceOpening.subscribe(s -> { }, e -> { });
        // Made while both ends open, on a thread that would only wait: the first registry of a run
        // initialises Micrometer, some milliseconds that came between the open ends and the first read.
        MeterRegistry registry = new CompositeMeterRegistry();
        ImageSource src = sourceOpening.block();
        try (src) {
            Verification verification = verify ? Verification.of(src, target, endpoints.options()) : null;
            size.tryEmitValue(src.size());
            ImageSink dst = opening.block();
            try (dst; CopyProgressBar bar = CopyProgressBar.start(showProgress(), "copy", src.size())) {
                AtomicReference<CopyProgress> last = new AtomicReference<>();
                CopyResult result;
                try {
                    Copy copy = Copy.from(src).to(dst).options(options).metrics(registry);
                    result = (verification == null ? copy : copy.observe(verification.observer())).run(p -> {
                        last.set(p);
                        bar.update(p);
                    }).block();
                } catch (RuntimeException e) {
                    throw new CopyFailedException(e, last.get());
                }
                bar.finish();
                bar.close(); // before the summary, so the bar does not redraw over it
                dst.close();
                String checksum = verification == null ? null : verification.check(target, endpoints.options());
                // with the image on standard output, the summary goes to standard error
                var out = StreamAddress.isStdio(target) ? console.err() : console.out();
                out.println(json ? CopySummary.json(source, target, result, checksum)
                        : CopySummary.line(result) + (checksum == null ? "" : "; verified, blake2b " + checksum));
                out.flush();
            }
        }
        return ExitCodes.OK;
    }

    private CopyOptions options() {
        if (requestSize != null && requestSize > Integer.MAX_VALUE) {
            throw new UsageException("extentflow copy", "--request-size " + requestSize + " is too large");
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
