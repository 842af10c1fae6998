package io.extentflow.daemon;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.copy.Copy;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.io.BlockingIo;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Level;
import java.util.logging.Logger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Runs copy jobs: at most {@link DaemonConfig#maxRunning()} at once, the rest queued in order; keeps
 * every change in a {@link JobStore} (the {@link JournalJobStore}) so that a restarted daemon
 * continues interrupted jobs from their last durable checkpoint ({@link Copy#resumeAt}).
 *
 * <p>A running job's checkpoint is made durable every {@link DaemonConfig#checkpointInterval()}:
 * the copy's {@code CopyProgress.checkpoint()} is taken, the target flushed, and only then the
 * offset stored, so the store never claims bytes that a power failure could still lose.
 */
public final class JobManager {

    private static final Logger LOG = Logger.getLogger("io.extentflow.daemon");

    private final DaemonConfig config;
    private final MeterRegistry registry;
    private final JobStore store;
    private final DaemonMetrics metrics;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private int running;
    private boolean closed;

    private JobManager(DaemonConfig config, MeterRegistry registry, JobStore store) {
        this.config = config;
        this.registry = registry;
        this.store = store;
        store.restored().forEach(j -> jobs.put(j.id, j));
        this.metrics = new DaemonMetrics(registry, this::count);
    }

    /**
     * Opens the job store (the journal in the state directory, replayed and compacted). The jobs a
     * previous run left queued or running start with {@link #resumeInterrupted()}.
     */
    public static Mono<JobManager> open(DaemonConfig config, MeterRegistry registry) {
        return BlockingIo.call(() -> {
            // loads the endpoint providers (ServiceLoader reads files) here, not on the event loop of a request
            Endpoints.knowsSource("/");
            JobStore store = JournalJobStore.open(config.stateDir(), config.keepFinished(), config.compactAfter());
            return new JobManager(config, registry, store);
        });
    }

    /**
     * Lets the store compact itself when it holds many more records than the jobs need (a long copy
     * adds a checkpoint every interval). Finished jobs beyond {@link DaemonConfig#keepFinished()}
     * are forgotten then too.
     */
    private Mono<Void> compactIfLarge() {
        return store.compactIfLarge(jobs.size(), () -> {
            synchronized (this) {
                List<Job> finished = list().stream().filter(j -> j.state().terminal()).toList();
                finished.subList(0, Math.max(0, finished.size() - config.keepFinished()))
                        .forEach(j -> jobs.remove(j.id));
                return list();
            }
        });
    }

    /** Starts the jobs a previous run left queued or running, each from its checkpoint. */
    public synchronized void resumeInterrupted() {
        jobs.values().stream().filter(j -> j.state() == JobState.QUEUED)
                .sorted(Comparator.comparing(j -> j.created))
                .forEach(j -> {
                    LOG.info("resuming job " + j.id + " at " + j.resumeFrom());
                    queue.add(j);
                });
        schedule();
    }

    /** Queues a copy; emits the job once the store holds it. */
    public Mono<Job> submit(JobRequest request) {
        Job job = new Job(newId(), request, Instant.now());
        // known before its record is written, so that a compaction meanwhile keeps it
        jobs.put(job.id, job);
        return store.add(job)
                .doOnError(e -> jobs.remove(job.id))
                .then(Mono.fromSupplier(() -> {
                    synchronized (this) {
                        if (closed) {
                            throw new IllegalStateException("the daemon is shutting down");
                        }
                        if (job.state() != JobState.QUEUED) {
                            return job; // cancelled while its record was written
                        }
                        queue.add(job);
                        schedule();
                    }
                    return job;
                }));
    }

    /** The jobs as the jobs API shows them. */
    JobBoard board() {
        return new JobBoard() {
            @Override
            public Mono<ObjectNode> submit(JobRequest request) {
                return JobManager.this.submit(request).map(Job::toJson);
            }

            @Override
            public Mono<ObjectNode> view(String id) {
                return Mono.fromSupplier(() -> get(id).map(Job::toJson).orElse(null));
            }

            @Override
            public Mono<List<ObjectNode>> list() {
                return Mono.fromSupplier(() -> JobManager.this.list().stream().map(Job::toJson).toList());
            }

            @Override
            public Mono<ObjectNode> cancel(String id) {
                return JobManager.this.cancel(id).map(Job::toJson);
            }
        };
    }

    /** The job with this id. */
    public Optional<Job> get(String id) {
        return Optional.ofNullable(jobs.get(id));
    }

    /** Every job, oldest first. */
    public List<Job> list() {
        return jobs.values().stream().sorted(Comparator.comparing((Job j) -> j.created).thenComparing(j -> j.id))
                .toList();
    }

    /**
     * Cancels a queued or running job; emits it once its copy stopped and its source and sink are
     * closed (a finished job is returned as it is).
     */
    public Mono<Job> cancel(String id) {
        Job job = jobs.get(id);
        if (job == null) {
            return Mono.empty();
        }
        synchronized (this) {
            JobState before = job.state();
            if (before.terminal()) {
                return Mono.just(job);
            }
            if (before == JobState.QUEUED) {
                queue.remove(job);
            } else {
                running--;
                metrics.stopped(job);
                job.subscription.dispose();
            }
            job.state(JobState.CANCELLED);
            schedule();
        }
        return store.saveState(job)
                .then(job.released().timeout(Duration.ofSeconds(30)).onErrorResume(e -> {
                    LOG.warning("job " + job.id + ": endpoints still closing 30 s after cancel");
                    return Mono.empty();
                }))
                .thenReturn(job);
    }

    /** Starts queued jobs while fewer than the limit run. Called with the lock held. */
    private void schedule() {
        while (!closed && running < config.maxRunning() && !queue.isEmpty()) {
            start(queue.poll());
        }
    }

    private void start(Job job) {
        // assembled first: a restart from zero is counted in the record saved below
        Mono<CopyResult> run = JobRun.run(job, job.interrupted(), registry, config.checkpointInterval(),
                this::saveCheckpoint);
        job.interrupted(false);
        running++;
        job.state(JobState.RUNNING);
        metrics.started(job);
        store.saveState(job).subscribe(null, e -> LOG.log(Level.SEVERE, "journal write failed", e));
        job.subscription = run.subscribe(result -> finished(job, result, null), e -> finished(job, null, e));
    }

    /** Journals a checkpoint that moved on (the target is flushed up to it). */
    private Mono<Void> saveCheckpoint(Job job, long checkpoint, boolean advanced) {
        if (!advanced) {
            return Mono.empty();
        }
        return store.saveCheckpoint(job, checkpoint)
                // the API shows only durable checkpoints. (A compaction between the write and this
                // line keeps the previous checkpoint: a restart would redo one interval more.)
                .doOnSuccess(v -> job.savedCheckpoint(checkpoint))
                .then(Mono.defer(this::compactIfLarge));
    }

    private void finished(Job job, CopyResult result, Throwable error) {
        synchronized (this) {
            if (job.state() != JobState.RUNNING || closed) {
                return; // cancelled (or shutting down) meanwhile: cancel() did the bookkeeping
            }
            running--;
            metrics.stopped(job);
            if (error != null) {
                job.failed(ImageIoException.reason(error));
                job.state(JobState.FAILED);
                LOG.info("job " + job.id + " failed: " + job.error());
            } else {
                job.succeeded(result);
                job.state(JobState.DONE);
            }
            schedule();
        }
        store.saveState(job).subscribe(null, e -> LOG.log(Level.SEVERE, "journal write failed", e));
    }

    /** Jobs in {@code state} now. */
    long count(JobState state) {
        return jobs.values().stream().filter(j -> j.state() == state).count();
    }

    /**
     * Stops every copy without recording it as cancelled (the store still says running, so the
     * next start resumes them) and closes the store once their endpoints are closed.
     */
    public Mono<Void> close(Duration grace) {
        List<Job> stopped;
        synchronized (this) {
            closed = true;
            stopped = jobs.values().stream().filter(j -> j.state() == JobState.RUNNING).toList();
            stopped.forEach(Job::stop);
        }
        return Flux.fromIterable(stopped)
                .flatMap(j -> j.released().timeout(grace).onErrorResume(e -> Mono.empty()))
                .then(BlockingIo.run(store::close))
                .doFinally(s -> metrics.close());
    }

    static String newId() {
        // not a secret (the token guards the API): time-ordered and unique enough, no blocking entropy source
        return Long.toString(System.currentTimeMillis(), 36) + "-"
                + Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    }
}
