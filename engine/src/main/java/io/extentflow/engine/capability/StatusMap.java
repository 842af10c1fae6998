package io.extentflow.engine.capability;

import io.extentflow.engine.nbd.NbdExtent;
import reactor.core.publisher.Flux;

/**
 * One kind of status over the whole image, a status value per range, as NBD's block status reports
 * it for one metadata context. The capabilities that extend this one say which context; the values
 * mean what that context defines.
 */
public interface StatusMap extends SourceCapability {

    /** The NBD metadata context whose values {@link #map} holds, e.g. {@code base:allocation}. */
    String context();

    /**
     * The status of {@code [start, start + length)}: ascending and contiguous, but not necessarily
     * merged (adjacent ranges may hold equal values). Fails when the source cannot report it for
     * this range.
     */
    Flux<NbdExtent> map(long start, long length);
}
