package io.extentflow.perf;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.dirty.IncrementalSource;
import io.extentflow.engine.endpoint.EndpointOptions;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.sinks.qcow2.Qcow2FileSink;
import io.extentflow.sinks.qcow2.Qcow2SinkOptions;
import io.extentflow.sources.DirtyOptions;
import java.nio.file.Path;

/**
 * For compare-incremental.sh, not a tool: an incremental copy into a new qcow2 overlay through the
 * library (the command line's {@code --backing} comes with the qcow2 sink's options), timed like the
 * command's other cases, JVM start-up included.
 *
 * <pre>java -cp perf/target/benchmarks.jar io.extentflow.perf.IncrementalOverlay SRC BITMAP BACKING OVERLAY</pre>
 *
 * BACKING is the backing file's name as it goes into the overlay (relative to the overlay's directory).
 */
public final class IncrementalOverlay {

    private IncrementalOverlay() {
    }

    public static void main(String[] args) {
        EndpointOptions options = EndpointOptions.defaults().with(DirtyOptions.DIRTY_BITMAP, args[1]);
        try (ImageSource src = Endpoints.source(args[0], options).block();
             ImageSink overlay = Qcow2FileSink.open(Path.of(args[3]), src.size(),
                     Qcow2SinkOptions.defaults().withBacking(args[2], null)).block()) {
            CopyResult r = Copy.from(IncrementalSource.of(src)).to(overlay).run().block();
            System.out.println(r.dataBytes() + " data bytes, " + r.zeroedBytes() + " zeroed, "
                    + r.skippedBytes() + " skipped");
        }
        System.exit(0);
    }
}
