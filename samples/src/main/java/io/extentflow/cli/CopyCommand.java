package io.extentflow.cli;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyProgress;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.endpoint.StreamAddress;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code extentflow copy SRC DST}: copies an image, reading only its data. */
@Command(name = "copy", mixinStandardHelpOptions = true,
        description = {"Copies image SRC to DST, reading only data extents and turning zeros into "
                + "zero requests (or nothing, on a new target).",
                "",
                "Addresses: a file path or file: URI (raw or qcow2, by magic), nbd://host[:port]/export, "
                        + "nbd+unix:///export?socket=PATH, http(s)://host:port/images/TICKET, "
                        + "- (a sparse stream on standard input or output), a path ending in .sparse "
                        + "(a sparse-stream file; see docs/sparse-stream.md).",
                "A new or empty target file is created sparse; an existing one must have the source's size.",
                "",
                "Sizes take binary suffixes: 4096, 4k, 4M, 64MiB, 1G."})
final class CopyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    EndpointFlags endpoints;

    @Parameters(index = "0", paramLabel = "SRC", description = "Image to read.")
    String source;

    @Parameters(index = "1", paramLabel = "DST", description = "Where to write it.")
    String target;

    @Option(names = "--progress", negatable = true,
            description = "Show a progress bar on standard error (default: only when it is a terminal).")
    Boolean progress;

    /** The engine's defaults, spelled for --help (CopyCommandTest checks they agree). */
    static final String DEFAULT_REQUEST_SIZE = "4MiB";
    static final String DEFAULT_MAX_IN_FLIGHT = "64MiB";

    @Option(names = "--request-size", paramLabel = "SIZE", converter = Sizes.class,
            defaultValue = DEFAULT_REQUEST_SIZE, description = "Largest data request (default: ${DEFAULT-VALUE}).")
    long requestSize;

    @Option(names = "--max-in-flight", paramLabel = "SIZE", converter = Sizes.class,
            defaultValue = DEFAULT_MAX_IN_FLIGHT,
            description = "Data buffer bytes in flight at most; bounds memory (default: ${DEFAULT-VALUE}).")
    long maxInFlight;

    @Option(names = "--no-detect-zeroes", description = "Write all-zero blocks found in data as data.")
    boolean noDetectZeroes;

    @Option(names = "--target-is-zero",
            description = "The existing target already reads as zeros: send nothing for zero ranges.")
    boolean targetIsZero;

    @Option(names = "--no-flush", description = "Do not flush the target at the end.")
    boolean noFlush;

    @Option(names = "--json", description = "Print the summary as one JSON object (for scripts).")
    boolean json;

    @Option(names = "--verify", description = "Checksum the source from the data the copy reads, then read the "
            + "target back (or ask its imageio server) and fail if the checksums differ.")
    boolean verify;

    @Override
    public Integer call() {
        CopyOptions options = options();
        ImageSource src = Endpoints.source(source, endpoints.options()).block();
        try (src) {
            Verification verification = verify ? Verification.of(src, target, endpoints.options()) : null;
            ImageSink dst = Endpoints.sink(target, src.size(), endpoints.options()).block();
            try (dst; CopyProgressBar bar = CopyProgressBar.start(showProgress(), "copy", src.size())) {
                AtomicReference<CopyProgress> last = new AtomicReference<>();
                CopyResult result;
                try {
                    Copy copy = Copy.from(src).to(dst).options(options);
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
                var out = StreamAddress.isStdio(target) ? spec.commandLine().getErr() : spec.commandLine().getOut();
                out.println(json ? CopySummary.json(source, target, result, checksum)
                        : CopySummary.line(result) + (checksum == null ? "" : "; verified, blake2b " + checksum));
                out.flush();
            }
        }
        return ExitCodes.OK;
    }

    private CopyOptions options() {
        if (requestSize > Integer.MAX_VALUE) {
            throw new ParameterException(spec.commandLine(), "--request-size " + requestSize + " is too large");
        }
        try {
            return CopyOptions.defaults()
                    .withRequestSize((int) requestSize)
                    .withMaxInFlight(maxInFlight)
                    .withDetectZeroes(!noDetectZeroes)
                    .withTargetIsZero(targetIsZero)
                    // a sparse stream ends with its stop frame, written by the flush
                    .withFlush(!noFlush || StreamAddress.isStream(target));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private boolean showProgress() {
        return progress != null ? progress : !json && Terminal.stderrIsTerminal();
    }
}
