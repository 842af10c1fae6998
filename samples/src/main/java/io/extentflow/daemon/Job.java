package io.extentflow.daemon;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.copy.CopyProgress;
import io.extentflow.engine.copy.CopyResult;
import java.time.Duration;
import java.time.Instant;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One copy job: its request, its state, and how far it came. Fields are written by the
 * {@link JobManager} (under its lock, or by the single thread reporting the copy's progress) and read
 * by any thread; {@link #toJson()} is a consistent-enough picture for the API.
 */
final class Job {

    final String id;
    final JobRequest request;
    final Instant created;

    private volatile JobState state = JobState.QUEUED;
    /** Offset this run started at: the checkpoint an earlier run saved. */
    private volatile long resumeFrom;
    private volatile CopyProgress progress;
    private volatile CopyResult result;
    private volatile String error;
    /** Every byte below this is done and on the target's disk, and the journal says so. */
    private volatile long savedCheckpoint;
    /** An earlier daemon ran this job and stopped before it ended (read from the journal at start). */
    private volatile boolean interrupted;
    /** Times the copy started again from zero after an interruption, its target not resumable. */
    private volatile int restarts;
    private volatile Instant started;
    private volatile Instant finished;
    /** Fleet mode: this daemon's claim on the job while it runs it; null otherwise. */
    private volatile Lease lease;
    /** The running copy, disposed by a cancel. */
    Disposable subscription;
    /** Open sources and sinks; a cancelled job is released when this is back at 0. */
    private int openEndpoints;
    /** Set when the daemon stops the job at shutdown (its state stays as it is, for the next start). */
    private boolean stopping;
    private final Sinks.Empty<Void> released = Sinks.empty();

    Job(String id, JobRequest request, Instant created) {
        this.id = id;
        this.request = request;
        this.created = created;
    }

    JobState state() {
        return state;
    }

    void state(JobState value) {
        state = value;
        if (value == JobState.RUNNING) {
            started = Instant.now();
            progress = null;
        } else if (value.terminal()) {
            finished = Instant.now();
        }
        checkReleased();
    }

    void resumeFrom(long offset) {
        resumeFrom = offset;
        savedCheckpoint = offset;
    }

    long resumeFrom() {
        return resumeFrom;
    }

    void progress(CopyProgress value) {
        progress = value;
    }

    CopyProgress progress() {
        return progress;
    }

    void succeeded(CopyResult value) {
        result = value;
    }

    void failed(String message) {
        error = message;
    }

    String error() {
        return error;
    }

    /** Marks the job as left running by an earlier daemon, or (false) as started again since. */
    void interrupted(boolean value) {
        interrupted = value;
    }

    /** True when an earlier daemon ran this job and stopped before it ended, and it has not started since. */
    boolean interrupted() {
        return interrupted;
    }

    /** Times the copy started again from zero after an interruption (its target could not resume). */
    int restarts() {
        return restarts;
    }

    void restarts(int value) {
        restarts = value;
    }

    Lease lease() {
        return lease;
    }

    void lease(Lease value) {
        lease = value;
    }

    long savedCheckpoint() {
        return savedCheckpoint;
    }

    void savedCheckpoint(long value) {
        savedCheckpoint = value;
    }

    synchronized void opened() {
        openEndpoints++;
    }

    synchronized void closed() {
        openEndpoints--;
        checkReleased();
    }

    private synchronized void checkReleased() {
        if (openEndpoints == 0 && (state.terminal() || stopping)) {
            released.tryEmitEmpty();
        }
    }

    /** Stops the copy at shutdown; {@link #released()} completes once its endpoints are closed. */
    synchronized void stop() {
        stopping = true;
        subscription.dispose();
        checkReleased();
    }

    CopyResult result() {
        return result;
    }

    /** Completes when the job ended (or was stopped) and every source and sink it opened is closed. */
    Mono<Void> released() {
        return released.asMono();
    }

    /** Bytes per second this run moved (resumed bytes not counted), 0 before it moved any. */
    double throughput() {
        CopyResult r = result;
        if (r != null) {
            double s = r.duration().toNanos() / 1e9;
            return s <= 0 ? 0 : (r.size() - r.resumedBytes()) / s;
        }
        CopyProgress p = progress;
        if (p == null || state != JobState.RUNNING) {
            return 0;
        }
        double s = p.elapsed().toNanos() / 1e9;
        return s <= 0 ? 0 : (p.done() - p.resumed()) / s;
    }

    /** The job as the API shows it. */
    ObjectNode toJson() {
        JobState s = state;
        CopyProgress p = progress;
        CopyResult r = result;
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("id", id);
        o.put("state", s.wire());
        o.put("source", request.source());
        o.put("target", request.target());
        o.set("options", request.json().path("options").deepCopy());
        o.put("created", created.toString());
        Instant st = started;
        Instant fi = finished;
        o.put("started", st == null ? null : st.toString());
        o.put("finished", fi == null ? null : fi.toString());
        long size = r != null ? r.size() : p != null ? p.size() : -1;
        o.put("size", size);
        o.put("done_bytes", r != null ? r.size() : p != null ? p.done() : resumeFrom);
        o.put("resumed_bytes", r != null ? r.resumedBytes() : p != null ? p.resumed() : resumeFrom);
        o.put("data_bytes", r != null ? r.dataBytes() : p != null ? p.dataBytes() : 0);
        o.put("zeroed_bytes", r != null ? r.zeroedBytes() : p != null ? p.zeroedBytes() : 0);
        o.put("skipped_bytes", r != null ? r.skippedBytes() : p != null ? p.skippedBytes() : 0);
        if (r != null) {
            o.put("read_bytes", r.readBytes());
            o.put("offloaded_bytes", r.offloadedBytes());
        }
        o.put("checkpoint", savedCheckpoint);
        o.put("restarts", restarts);
        o.put("fraction", r != null ? 1.0 : p != null ? p.fraction() : 0.0);
        o.put("bytes_per_second", Math.round(throughput()));
        Duration elapsed = r != null ? r.duration() : p != null ? p.elapsed() : Duration.ZERO;
        o.put("elapsed_seconds", elapsed.toMillis() / 1000.0);
        o.put("error", error);
        Lease l = lease;
        if (l != null) {
            o.put("daemon", l.owner());
        }
        return o;
    }
}
