package io.extentflow.daemon;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.dirty.IncrementalSource;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.io.BlockingIo;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One run of a job's copy, as both job managers ({@link JobManager} with its journal,
 * {@link FleetJobManager} with the database) run it: opens both ends, copies from the job's
 * checkpoint when the target still holds what an earlier run wrote, and every interval makes the
 * progress durable (target flushed) and hands the durable offset to a {@link Checkpointer}.
 */
final class JobRun {

    private static final Logger LOG = Logger.getLogger("io.extentflow.daemon");

    /** Records a durable checkpoint of a running job. */
    @FunctionalInterface
    interface Checkpointer {
        /**
         * Called every interval with the offset below which every byte is on the target's disk
         * ({@code advanced} false when it did not move since the last call: the fleet still renews
         * its lease then). An error stops the copy.
         */
        Mono<Void> save(Job job, long offset, boolean advanced);
    }

    private JobRun() {
    }

    /**
     * The job's copy, subscribed to by the caller; {@code job.opened()} and {@code job.closed()}
     * count its endpoints. Resumable jobs call {@code checkpointer} every {@code interval}.
     *
     * @param ranBefore an earlier run of the job stopped before it ended (a daemon died, or gave it back)
     */
    static Mono<CopyResult> run(Job job, boolean ranBefore, MeterRegistry registry, Duration interval,
                                Checkpointer checkpointer) {
        JobRequest r = job.request;
        // A target that cannot go on part way (a qcow2 file) that an earlier run was writing holds a
        // partial image that opening refuses: remove it and copy from zero, counted in the job's
        // record as a restart (not a resume).
        Mono<Void> fresh = Mono.empty();
        if (ranBefore && !r.resumable()) {
            job.restarts(job.restarts() + 1);
            job.resumeFrom(0);
            LOG.info("job " + job.id + ": " + r.target() + " cannot resume, restarting the copy from zero");
            fresh = Endpoints.discardPartial(r.target(), r.endpoint());
        }
        // both ends open at once: a network target connects while the source opens
        return fresh.then(Mono.usingWhen(
                BlockingIo.run(r::requireIncrementalTarget)
                        .then(Endpoints.pair(r.source(), r.endpoint(), r.target(), r.endpoint()))
                        .doOnNext(p -> job.opened()),
                p -> copy(job, p.source(), p.sink(), registry, interval, checkpointer),
                p -> closed(job, p.closeGracefully())));
    }

    /** An endpoint's closing, counted for the job when it ends (an NBD endpoint's sockets are closed by then). */
    private static Mono<Void> closed(Job job, Mono<Void> closing) {
        return closing
                .onErrorResume(e -> {
                    LOG.log(Level.WARNING, "job " + job.id + ": closing an endpoint failed", e);
                    return Mono.empty();
                })
                .doFinally(s -> job.closed());
    }

    /** The copy, with its checkpoint saved every interval while it runs. */
    private static Mono<CopyResult> copy(Job job, ImageSource opened, ImageSink sink, MeterRegistry registry,
                                         Duration interval, Checkpointer checkpointer) {
        ImageSource source = opened;
        if (job.request.incremental()) {
            // as extentflow copy --incremental: only what changed, into a target that holds the rest
            Optional<DirtyExtents> dirty = opened.capability(DirtyExtents.class);
            if (dirty.isEmpty()) {
                return Mono.error(new IllegalArgumentException("incremental needs a dirty source: "
                        + opened.endpoint() + " reports no dirty extents (give dirty_bitmap)"));
            }
            if (sink.capabilities().knownZero()) {
                return Mono.error(new IllegalArgumentException("incremental: " + sink.endpoint() + " is a new, "
                        + "empty image: an incremental copy goes into an existing full copy or a qcow2 overlay on one"));
            }
            source = new IncrementalSource(opened, dirty.get());
        }
        Copy copy = Copy.from(source).to(sink).options(job.request.copy()).metrics(registry);
        boolean resumable = job.request.resumable();
        // a target that reads as zeros now (e.g. a file deleted and created anew) lost what the
        // earlier run wrote: copying from the checkpoint would leave its head empty
        if (resumable && job.resumeFrom() > 0 && !sink.capabilities().knownZero()) {
            copy = copy.resumeAt(job.resumeFrom());
        } else {
            if (job.resumeFrom() > 0) {
                LOG.info("job " + job.id + ": target is new, copying from the start instead of " + job.resumeFrom());
            }
            job.resumeFrom(0);
        }
        Sinks.One<Boolean> stop = Sinks.one();
        AtomicReference<CopyResult> result = new AtomicReference<>();
        Mono<Void> copying = copy.run(job::progress)
                .doOnNext(result::set)
                .doFinally(s -> stop.tryEmitValue(true))
                .then();
        Mono<Void> saving = !resumable ? Mono.empty()
                : Flux.interval(interval)
                        .onBackpressureDrop()
                        // stops taking ticks when the copy ends, but lets a save in progress finish
                        .takeUntilOther(stop.asMono())
                        .concatMap(t -> saveCheckpoint(job, sink, checkpointer), 1)
                        .then();
        // saving first: its takeUntilOther must be subscribed before the copy can end. A copy that ends
        // at once (an empty image) on another thread while saving was still being subscribed made
        // takeUntilOther complete concatMap before concatMap had its queue (an NPE failed the job)
        return Mono.when(saving, copying).then(Mono.fromSupplier(result::get));
    }

    /** Flushes the target when the copy moved on, then saves the checkpoint taken before the flush. */
    private static Mono<Void> saveCheckpoint(Job job, ImageSink sink, Checkpointer checkpointer) {
        var p = job.progress();
        long checkpoint = p == null ? 0 : p.checkpoint();
        long saved = job.savedCheckpoint();
        if (checkpoint <= saved) {
            return Mono.defer(() -> checkpointer.save(job, saved, false));
        }
        return sink.flush()
                .onErrorMap(e -> ImageIoException.wrap("flush", sink.endpoint(), 0, checkpoint, e))
                // deferred: the store writes at once, and the record must not reach the disk before the flush did
                .then(Mono.defer(() -> checkpointer.save(job, checkpoint, true)))
                // the API shows only durable checkpoints
                .doOnSuccess(v -> job.savedCheckpoint(checkpoint));
    }
}
