package io.extentflow.engine.capability;

import io.extentflow.engine.Extent;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * A sink that lays out its whole target before the first byte: a format whose metadata comes first
 * and depends on where the data lies (a qcow2 image written to a pipe in one sequential pass). A copy
 * into such a sink first collects every extent of the source, hands them to {@link #plan}, and sends
 * its first request only once the plan completed; the requests then cover exactly these extents.
 *
 * <p>The cost is memory for the extent list: one small record per extent, bounded by the number of
 * extents the source reports (after merging), not by the image's bytes. A sink that offers this
 * cannot be copied into from a source of unknown size, nor resumed midway.
 */
public interface ExtentPlan extends SinkCapability {

    /**
     * Takes the source's extents: ascending, contiguous, from 0 to the image size. Completes when
     * the sink is ready for requests (it may already have written what precedes the data); an error
     * fails the copy before anything is read.
     */
    Mono<Void> plan(List<Extent> extents);
}
