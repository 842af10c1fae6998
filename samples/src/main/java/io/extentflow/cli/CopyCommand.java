package io.extentflow.cli;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyOptions;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.Endpoints;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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
                        + "nbd+unix:///export?socket=PATH, http(s)://host:port/images/TICKET.",
                "A new or empty target file is created sparse; an existing one must have the source's size.",
                "",
                "Sizes take binary suffixes: 4096, 4k, 4M, 64MiB, 1G."})
final class CopyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

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

    @Override
    public Integer call() {
        CopyOptions options = options();
        CopyResult result;
        ImageSource src = Endpoints.source(source).block();
        try (src) {
            ImageSink dst = Endpoints.sink(target, src.size()).block();
            try (dst; CopyProgressBar bar = CopyProgressBar.start(showProgress(), "copy", src.size())) {
                result = Copy.from(src).to(dst).options(options).run(bar::update).block();
                bar.finish();
            }
        }
        // after the bar is closed, so it does not redraw over the summary
        var out = spec.commandLine().getOut();
        out.println(json ? CopySummary.json(source, target, result) : CopySummary.line(result));
        out.flush();
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
                    .withFlush(!noFlush);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    private boolean showProgress() {
        return progress != null ? progress : !json && Terminal.stderrIsTerminal();
    }
}
