package io.extentflow.daemon;

import java.io.IOException;
import java.util.List;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * Where the {@link JobManager} keeps its jobs so that a restarted daemon knows them: each job's
 * request, its state changes and its durable checkpoints. The manager decides what happens to jobs;
 * the store only remembers it. {@link JournalJobStore} keeps them in a file; a database could keep
 * them for a fleet of daemons.
 *
 * <p>Writes never block the caller and complete once what they wrote survives a crash.
 */
interface JobStore extends AutoCloseable {

    /**
     * The jobs the store held when it was opened, oldest first: those a previous run left queued or
     * running come back {@link JobState#QUEUED}, to resume from their checkpoint.
     */
    List<Job> restored();

    /** Records a new job, with its request. */
    Mono<Void> add(Job job);

    /** Records the job's state now (and its result or error once it ended). */
    Mono<Void> saveState(Job job);

    /** Records that every byte of the job below {@code offset} is on the target's disk. */
    Mono<Void> saveCheckpoint(Job job, long offset);

    /**
     * Gives the store a chance to shrink when it holds much more than the {@code jobCount} jobs
     * need, one compaction at a time. When it compacts, it calls {@code keep} for the jobs to keep
     * (the manager forgets old finished ones then) and stores exactly those.
     */
    Mono<Void> compactIfLarge(int jobCount, Supplier<List<Job>> keep);

    /** Closes the store once no write is to come. Blocking. */
    @Override
    void close() throws IOException;
}
