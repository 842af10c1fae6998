package io.extentflow.daemon;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.copy.CopyResult;
import io.extentflow.engine.endpoint.Endpoints;
import io.extentflow.engine.io.BlockingIo;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Runs copy jobs of a fleet: the jobs live in PostgreSQL ({@link PostgresJobStore}), and every daemon
 * of the fleet takes work from them.
 *
 * <ul>
 *   <li><b>Claiming.</b> While fewer than {@link DaemonConfig#maxRunning()} jobs run here, the daemon
 *       claims the oldest queued jobs (or ones whose lease expired), as many as slots are free, in
 *       the statement that also writes the final states of its jobs that ended ({@link #exchange()}),
 *       and runs each from its checkpoint. A job submitted here while a slot is free and no older
 *       job waits is claimed by the statement that records it.
 *       It looks when told of a new job (notification), when a job of its own ends, and every
 *       poll interval (expired leases are noticed that way).</li>
 *   <li><b>Leases.</b> Every {@link DaemonConfig#checkpointInterval()} the running job's target is
 *       flushed and its checkpoint recorded in the statement that renews the lease; while no
 *       checkpoint renewed it for one and a half intervals (endpoints opening, a slow flush), a
 *       heartbeat renews the lease alone. A renewal that
 *       fails leaves the lease as it was; once {@link DaemonConfig#leaseTime()} passed since the last
 *       renewal began, the daemon stops the copy itself, as another daemon may have taken it by then.</li>
 *   <li><b>Fencing.</b> Every write of a running job's state names the lease's owner and
 *       generation; the database refuses it once the job is another's ({@link LeaseLost}), and the
 *       daemon then stops the copy and records nothing.</li>
 *   <li><b>Cancel.</b> Any daemon cancels a job in the database and notifies
 *       ({@code NOTIFY}) the fleet; the daemon running it stops the copy when told, or at its next
 *       renewal if the notification was lost.</li>
 * </ul>
 */
public final class FleetJobManager {

    private static final Logger LOG = Logger.getLogger("io.extentflow.daemon");
    /**
     * At most this many jobs per slot are claimed ahead ({@link ClaimAhead}): a bound on what one
     * daemon holds while others may be idle, reached when exchanges take four times a job's time.
     */
    private static final int MOST_AHEAD_PER_SLOT = 16;
    /**
     * How often the fleet's job counts of the state gauges are refreshed. Counting reads the whole
     * table, finished jobs included (they stay until an operator deletes them): with 31,000 rows each
     * count took PostgreSQL 53 ms, and at one per daemon per second that was half of its CPU per job in
     * perf/fleet.sh. A scrape every 15-60 s sees no difference.
     */
    private static final Duration COUNTS_INTERVAL = Duration.ofSeconds(10);

    private final DaemonConfig config;
    private final MeterRegistry registry;
    private final PostgresJobStore store;
    private final String owner;
    private final DaemonMetrics metrics;
    private final FleetMetrics fleet;
    private final Gauge runningHere;
    private final Duration pollInterval;
    /** The jobs running on this daemon. */
    private final Map<String, Job> running = new ConcurrentHashMap<>();
    /**
     * Jobs claimed ahead of a free slot, oldest first, with the time they were claimed: a slot that
     * frees starts the next one at once instead of waiting for an exchange with the database (which
     * took 12-20 ms against a short job's 3 ms: the slots stood idle two thirds of the time). Their
     * leases are renewed like running jobs'; one that waited longer than a poll interval is given
     * back, so an idle daemon of the fleet can take it. Guarded by {@code this}.
     */
    private final Deque<Waiting> ready = new ArrayDeque<>();
    /** How many jobs this daemon claims ahead of its free slots: enough to cover an exchange's time. */
    private final ClaimAhead ahead;
    /** When each running job started here ({@link System#nanoTime()}). */
    private final Map<String, Long> startedAt = new ConcurrentHashMap<>();
    /** Per running job: the {@link System#nanoTime()} by which its lease may have expired. */
    private final Map<String, Long> deadlines = new ConcurrentHashMap<>();
    /**
     * The jobs whose lease this daemon holds (running, or claimed ahead), by id: one ticker renews the
     * lease of those that no checkpoint renewed for a while ({@link #heartbeats()}). One ticker for
     * all, not one per job: scheduling and cancelling a periodic task for every job was a cost of
     * every short job.
     */
    private final Map<String, Job> held = new ConcurrentHashMap<>();
    /** Jobs whose heartbeat is in flight: at most one at a time per job. */
    private final Set<String> beating = ConcurrentHashMap.newKeySet();
    /** Jobs that ended here, whose final state the next {@link #exchange()} writes. */
    private final Queue<Job> finals = new ConcurrentLinkedQueue<>();
    /** Free slots taken by claims in flight ({@link #reserve}). */
    private final AtomicInteger reserved = new AtomicInteger();
    private final Sinks.Many<Long> wakeups = Sinks.many().multicast().onBackpressureBuffer(16, false);
    private volatile Map<JobState, Long> counts = Map.of();
    private volatile long countsAt;
    private volatile boolean claimFailing;
    private volatile boolean closed;
    private Disposable claiming;
    private Disposable listening;
    private Disposable beats;

    private FleetJobManager(DaemonConfig config, MeterRegistry registry, PostgresJobStore store, String owner) {
        this.config = config;
        this.registry = registry;
        this.store = store;
        this.owner = owner;
        this.metrics = new DaemonMetrics(registry, s -> counts.getOrDefault(s, 0L));
        this.fleet = new FleetMetrics(registry, store.database());
        this.runningHere = Gauge.builder("extentflow.daemon.fleet.running", running, Map::size)
                .description("Jobs of the fleet running on this daemon").register(registry);
        // an expired lease is found within a quarter of the lease time, at most a second
        long quarter = config.leaseTime().toMillis() / 4;
        this.pollInterval = Duration.ofMillis(Math.max(100, Math.min(1000, quarter)));
        // under a per-host limit a job claimed ahead would hold one of its host's places while it waits
        this.ahead = new ClaimAhead(config.maxRunning(),
                config.maxPerSourceHost() > 0 ? 0 : MOST_AHEAD_PER_SLOT * config.maxRunning(), pollInterval.toNanos());
    }

    /** A job claimed ahead and when, in {@link System#nanoTime()}. */
    private record Waiting(PostgresJobStore.Claim claim, long since) {
    }

    /**
     * Connects to the fleet's database and brings its schema up to date; fails with one line naming
     * the database when it cannot be reached. The daemon claims jobs once {@link #start()} is called.
     */
    public static Mono<FleetJobManager> open(DaemonConfig config, MeterRegistry registry) {
        Duration statementTimeout = Duration.ofMillis(Math.max(1000, Math.min(10_000,
                config.leaseTime().toMillis() / 2)));
        Database db = new Database(config.jobsDb(), statementTimeout);
        return Migrations.apply(db)
                .then(BlockingIo.call(() -> {
                    // loads the endpoint providers (ServiceLoader reads files) here, not on an event loop
                    Endpoints.knowsSource("/");
                    return ownerName();
                }))
                .map(name -> new FleetJobManager(config, registry, new PostgresJobStore(db, config.leaseTime(),
                        config.maxPerSourceHost()), name))
                .doOnError(e -> db.close());
    }

    /** This daemon's name in the fleet: host, process and a random part (a restarted daemon is another). */
    private static String ownerName() throws java.io.IOException {
        String host = InetAddress.getLocalHost().getHostName();
        return host + ":" + ProcessHandle.current().pid() + ":"
                + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    }

    /** This daemon's name in the fleet, as jobs' {@code daemon} field shows it. */
    public String owner() {
        return owner;
    }

    /** Starts listening to the fleet and claiming jobs. */
    public synchronized void start() {
        LOG.info("fleet daemon " + owner + " on " + config.jobsDb().address());
        claiming = Flux.merge(Flux.interval(Duration.ZERO, pollInterval), wakeups.asFlux())
                // a wake-up during a claim is kept (the latest), so a job queued meanwhile is seen
                .onBackpressureLatest()
                .concatMap(t -> exchange().then(refreshCounts()), 1)
                .subscribe();
        // every half interval: a lease then goes without renewal for at most two intervals, as it
        // did with a ticker per job started when the job was claimed
        beats = Flux.interval(config.checkpointInterval().dividedBy(2))
                .onBackpressureDrop()
                .subscribe(t -> heartbeats());
        listening = store.database().listen(List.of(PostgresJobStore.QUEUED, PostgresJobStore.CANCELLED), this::wake)
                .subscribe(n -> {
                    if (PostgresJobStore.CANCELLED.equals(n.getName())) {
                        stopCancelled(n.getParameter());
                    } else {
                        wake();
                    }
                });
    }

    private void wake() {
        wakeups.tryEmitNext(0L); // a failed emit means another is being emitted: a wake-up happens anyway
    }

    /**
     * One exchange with the queue, repeated while it has work: in one statement, writes the final
     * states of the jobs that ended here since the last exchange and claims as many jobs as slots are
     * free ({@link PostgresJobStore#settle}). A job that ends frees its slot and queues its final
     * state; the next exchange records it and fills the slot in the same round trip and commit, and
     * while one exchange is in flight the jobs ending meanwhile gather for the next.
     *
     * <p>Without a per-host limit, fewer jobs than asked for means the queue had no more: the daemon
     * waits for the next wake-up (a job queued, one of its own ended, the poll) instead of asking
     * again. Under a limit, jobs passed over for their busy host may have hidden claimable ones: it
     * asks again while claims come back. A failed exchange (the database is away) keeps its final
     * states for the next one, which the poll brings at the latest.
     */
    private Mono<Void> exchange() {
        return Mono.defer(() -> {
            List<Job> ending = drainFinals();
            giveBackStale();
            int free = reserve(Integer.MAX_VALUE);
            if (ending.isEmpty() && free <= 0) {
                return Mono.empty();
            }
            long sent = System.nanoTime();
            AtomicBoolean held = new AtomicBoolean(true);
            Runnable unreserve = () -> {
                if (held.getAndSet(false)) {
                    reserved.addAndGet(-free);
                }
            };
            return store.settle(owner, ending, free)
                    // stopped at shutdown before the answer came: close() tries them once more
                    .doOnCancel(() -> {
                        unreserve.run();
                        finals.addAll(ending);
                    })
                    .onErrorResume(e -> {
                        unreserve.run();
                        finals.addAll(ending);
                        if (!claimFailing) {
                            claimFailing = true;
                            LOG.warning("writing final states and claiming jobs failed: " + Database.reason(e)
                                    + " (trying again every " + pollInterval.toMillis() + " ms)");
                        }
                        return Mono.empty();
                    })
                    .flatMap(settled -> {
                        long took = System.nanoTime() - sent;
                        fleet.exchanges.record(took, TimeUnit.NANOSECONDS);
                        ahead.exchanged(took);
                        claimFailing = false;
                        for (Job j : ending) {
                            if (!settled.finished().contains(j.id)) {
                                lost(new LeaseLost(j.id, "another daemon took it, or it was cancelled"));
                            }
                        }
                        settled.claims().forEach(c -> admit(c, sent));
                        unreserve.run(); // the claimed jobs hold their slots in running now
                        boolean again = !finals.isEmpty()
                                || (!settled.claims().isEmpty() && config.maxPerSourceHost() > 0);
                        return again ? exchange() : Mono.empty();
                    });
        });
    }

    /**
     * Takes up to {@code want} free slots for claims in flight (an exchange, a submit claiming its own
     * job), so that two of them never fill the same slot; given back once the claimed jobs run.
     */
    private int reserve(int want) {
        while (true) {
            int taken = reserved.get();
            int waiting;
            synchronized (this) {
                waiting = ready.size();
            }
            int free = closed ? 0 : Math.min(want, config.maxRunning() + ahead.jobs() - running.size() - waiting - taken);
            if (free <= 0) {
                return 0;
            }
            if (reserved.compareAndSet(taken, taken + free)) {
                return free;
            }
        }
    }

    /** The jobs whose final state waits to be written, taken out of the queue. */
    private List<Job> drainFinals() {
        List<Job> out = new ArrayList<>();
        for (Job j = finals.poll(); j != null; j = finals.poll()) {
            out.add(j);
        }
        return out;
    }

    /** The fleet's job counts of the state gauges, at most once per {@link #COUNTS_INTERVAL}. */
    private Mono<Void> refreshCounts() {
        if (countsAt != 0 && System.nanoTime() - countsAt < COUNTS_INTERVAL.toNanos()) {
            return Mono.empty();
        }
        countsAt = System.nanoTime();
        return store.counts().doOnNext(c -> {
            Map<JobState, Long> m = new EnumMap<>(JobState.class);
            m.putAll(c);
            counts = m;
        }).onErrorResume(e -> Mono.empty()).then();
    }

    /**
     * A job claimed here (its lease sent at {@code sent}): it runs at once in a free slot, else waits
     * among the jobs claimed ahead, its lease renewed, for the next slot that frees.
     */
    private void admit(PostgresJobStore.Claim claim, long sent) {
        Job job = claim.job();
        fleet.claims.increment();
        if (claim.takenOver()) {
            fleet.takeovers.increment();
            LOG.info("job " + job.id + ": taken over from a daemon whose lease expired, at checkpoint "
                    + job.resumeFrom());
        }
        synchronized (this) {
            if (!closed && running.size() >= config.maxRunning()) {
                holdLease(job, sent);
                ready.add(new Waiting(claim, System.nanoTime()));
                return;
            }
            begin(claim, sent);
        }
    }

    /** Keeps the job's lease from {@code sent} on: its deadline, and the heartbeats that renew it. */
    private void holdLease(Job job, long sent) {
        deadlines.putIfAbsent(job.id, sent + config.leaseTime().toNanos());
        // while its endpoints open, and while a slow flush holds up a checkpoint (or while it waits
        // for a slot), the lease is renewed alone: only a daemon that stopped running loses it
        held.putIfAbsent(job.id, job);
    }

    /**
     * Renews, each alone, the leases held here that no renewal was sent for in one and a half
     * checkpoint intervals, one renewal in flight per job at most.
     */
    private void heartbeats() {
        long now = System.nanoTime();
        long due = config.checkpointInterval().toNanos() * 3 / 2;
        for (Job job : held.values()) {
            Long deadline = deadlines.get(job.id);
            if (deadline != null && now - (deadline - config.leaseTime().toNanos()) >= due && beating.add(job.id)) {
                heartbeat(job).doFinally(s -> beating.remove(job.id)).subscribe(null, e -> { });
            }
        }
    }

    /** Starts the jobs claimed ahead while slots are free. */
    private synchronized void startReady() {
        Waiting next;
        while (!closed && running.size() < config.maxRunning() && (next = ready.poll()) != null) {
            begin(next.claim(), System.nanoTime()); // its lease is held already: the deadline stays
        }
    }

    /**
     * Gives back the jobs claimed ahead that waited longer than a poll interval (their slots stayed
     * busy): another daemon of the fleet, perhaps idle, takes them from the queue.
     */
    private void giveBackStale() {
        List<Job> back = new ArrayList<>();
        synchronized (this) {
            long now = System.nanoTime();
            while (!ready.isEmpty() && now - ready.peek().since() > pollInterval.toNanos()) {
                Job job = ready.poll().claim().job();
                dropLease(job);
                back.add(job);
                ahead.stop(); // the jobs here are not short now: no more claims ahead
            }
        }
        back.forEach(job -> store.release(job).subscribe(null, e -> { }));
    }

    private void begin(PostgresJobStore.Claim claim, long sent) {
        Job job = claim.job();
        synchronized (this) {
            if (closed) {
                dropLease(job);
                store.release(job).subscribe(null, e -> { });
                return;
            }
            running.put(job.id, job);
            startedAt.put(job.id, System.nanoTime());
            job.state(JobState.RUNNING);
            metrics.started(job);
            if (job.error() != null) {
                holdLease(job, sent);
                finished(job, null, new IllegalStateException(job.error()));
                return;
            }
            holdLease(job, sent);
            // an earlier claim of the job ran it (a daemon died or gave it back)
            job.subscription = JobRun.run(job, job.lease().generation() > 1, registry, config.checkpointInterval(),
                            this::renew)
                    .subscribe(result -> finished(job, result, null), e -> finished(job, null, e));
        }
    }

    /** Renews the lease alone (no renewal was sent for a while); a lease found lost stops the job. */
    private Mono<Void> heartbeat(Job job) {
        return renewing(job, store.renewLease(job)).onErrorResume(LeaseLost.class, lost -> {
            abandon(job, lost);
            return Mono.empty();
        });
    }

    /** Stops a job whose lease is gone, recording nothing. */
    private void abandon(Job job, LeaseLost lost) {
        synchronized (this) {
            if (running.remove(job.id, job)) {
                forget(job);
                if (job.subscription != null) {
                    job.subscription.dispose();
                }
            } else if (ready.removeIf(w -> w.claim().job() == job)) {
                dropLease(job);
            } else {
                return;
            }
        }
        lost(lost);
        startReady();
        wake();
    }

    /** Drops a job that stopped running here from the lease bookkeeping. Called with the lock held. */
    private void forget(Job job) {
        dropLease(job);
        Long started = startedAt.remove(job.id);
        if (started != null) {
            ahead.jobRan(System.nanoTime() - started);
        }
        metrics.stopped(job);
    }

    /** Stops keeping the job's lease. Called with the lock held. */
    private void dropLease(Job job) {
        deadlines.remove(job.id);
        held.remove(job.id, job);
    }

    /** Renews the job's lease and records its checkpoint (called every checkpoint interval). */
    private Mono<Void> renew(Job job, long checkpoint, boolean advanced) {
        return renewing(job, store.saveCheckpoint(job, checkpoint));
    }

    /**
     * Sends a renewal ({@code write}) unless the lease may have expired already, and moves the job's
     * deadline on when it succeeds. A write that fails (the database is away) is counted and
     * forgiven while the lease lasts; {@link LeaseLost} once it may not.
     */
    private Mono<Void> renewing(Job job, Mono<Void> write) {
        return Mono.defer(() -> {
            long sent = System.nanoTime();
            Long deadline = deadlines.get(job.id);
            if (deadline == null) {
                return Mono.error(new LeaseLost(job.id, "the job stopped here"));
            }
            if (sent - deadline > 0) {
                // e.g. the daemon was paused: another daemon may run the job by now
                return Mono.error(new LeaseLost(job.id, "not renewed within " + config.leaseTime().toMillis() + " ms"));
            }
            long renewed = sent + config.leaseTime().toNanos();
            return write
                    .doOnSuccess(v -> deadlines.computeIfPresent(job.id, (k, d) -> renewed - d > 0 ? renewed : d))
                    .onErrorResume(e -> !(e instanceof LeaseLost), e -> {
                        fleet.renewFailures.increment();
                        long left = deadlines.getOrDefault(job.id, sent) - System.nanoTime();
                        LOG.warning("job " + job.id + ": renewing its lease failed: " + Database.reason(e)
                                + (left > 0 ? " (the lease holds " + left / 1_000_000 + " ms more)" : ""));
                        return left > 0 ? Mono.empty()
                                : Mono.error(new LeaseLost(job.id, "not renewed in time: " + Database.reason(e)));
                    });
        });
    }

    private void finished(Job job, CopyResult result, Throwable error) {
        synchronized (this) {
            if (!running.remove(job.id, job)) {
                return; // cancelled (or stopped at shutdown) meanwhile
            }
            forget(job);
        }
        startReady(); // its slot takes the next job claimed ahead at once
        LeaseLost lost = leaseLost(error);
        if (lost != null) {
            lost(lost);
            wake(); // its slot is free
            return;
        }
        if (error != null) {
            job.failed(ImageIoException.reason(error));
            job.state(JobState.FAILED);
            LOG.info("job " + job.id + " failed: " + job.error());
        } else {
            job.succeeded(result);
            job.state(JobState.DONE);
        }
        // the final state, once, by the next exchange (with the claim that fills the slot); kept
        // for the one after while the database is away, refused once the job is another's
        finals.add(job);
        wake();
    }

    private void lost(LeaseLost lost) {
        fleet.leaseLost.increment();
        LOG.warning(lost.getMessage() + "; stopped, nothing recorded");
    }

    private static LeaseLost leaseLost(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof LeaseLost l) {
                return l;
            }
        }
        return null;
    }

    /** Stops the job if it runs here (it was cancelled in the database); returns it, or null. */
    private Job stopCancelled(String id) {
        Job job;
        synchronized (this) {
            job = running.remove(id);
            if (job == null) {
                Waiting waiting = ready.stream().filter(w -> w.claim().job().id.equals(id)).findFirst().orElse(null);
                if (waiting != null) {
                    // claimed ahead, not started: nothing to stop
                    ready.remove(waiting);
                    dropLease(waiting.claim().job());
                    LOG.info("job " + id + " cancelled before it started here");
                }
                return null;
            }
            forget(job);
            job.state(JobState.CANCELLED);
            if (job.subscription != null) {
                job.subscription.dispose();
            }
        }
        LOG.info("job " + id + " cancelled; its copy stopped");
        startReady();
        wake();
        return job;
    }

    /** The jobs API's view: every job of the fleet, from any daemon. */
    JobBoard board() {
        return new JobBoard() {
            @Override
            public Mono<ObjectNode> submit(JobRequest request) {
                if (closed) {
                    return Mono.error(new IllegalStateException("the daemon is shutting down"));
                }
                Job job = new Job(JobManager.newId(), request, Instant.now());
                if (reserve(1) == 0) {
                    return store.add(job).then(Mono.fromSupplier(job::toJson));
                }
                // a free slot here: the job is claimed as it is recorded, unless older ones wait
                long sent = System.nanoTime();
                return store.addClaimed(job, owner)
                        .doOnNext(c -> admit(c, sent))
                        .doFinally(s -> reserved.decrementAndGet())
                        .then(Mono.fromSupplier(job::toJson));
            }

            @Override
            public Mono<ObjectNode> view(String id) {
                Job here = running.get(id);
                // a job running here is shown live; others as of their last write
                return here != null ? Mono.fromSupplier(here::toJson) : store.view(id);
            }

            @Override
            public Mono<List<ObjectNode>> list() {
                return store.list().map(all -> all.stream().map(o -> {
                    Job here = running.get(o.path("id").asText());
                    return here != null ? here.toJson() : o;
                }).toList());
            }

            @Override
            public Mono<ObjectNode> cancel(String id) {
                return store.cancel(id).flatMap(view -> {
                    Job here = stopCancelled(id);
                    if (here == null) {
                        return Mono.just(view);
                    }
                    return here.released().timeout(Duration.ofSeconds(30)).onErrorResume(e -> Mono.empty())
                            .then(Mono.fromSupplier(here::toJson));
                });
            }
        };
    }

    /**
     * Stops claiming, stops the copies running here and gives their jobs back to the queue at their
     * checkpoints (another daemon continues them at once), then closes the database connections.
     */
    public Mono<Void> close(Duration grace) {
        List<Job> stopped;
        List<Job> waitingBack = new ArrayList<>();
        synchronized (this) {
            closed = true;
            if (claiming != null) {
                claiming.dispose();
            }
            if (beats != null) {
                beats.dispose();
            }
            stopped = List.copyOf(running.values());
            running.clear();
            stopped.forEach(this::forget);
            stopped.forEach(Job::stop);
            for (Waiting w : ready) {
                dropLease(w.claim().job());
                waitingBack.add(w.claim().job());
            }
            ready.clear();
        }
        return Flux.fromIterable(waitingBack)
                .flatMap(j -> store.release(j).timeout(Duration.ofSeconds(5)).onErrorResume(e -> Mono.empty()))
                .thenMany(Flux.fromIterable(stopped))
                .flatMap(j -> j.released().timeout(grace).onErrorResume(e -> Mono.empty())
                        .then(store.release(j).timeout(Duration.ofSeconds(5)).onErrorResume(e -> Mono.empty())))
                // final states not yet written: once more, else another daemon runs those jobs again
                .then(Mono.defer(() -> store.settle(owner, drainFinals(), 0)).timeout(Duration.ofSeconds(5))
                        .onErrorResume(e -> Mono.empty()))
                .then(Mono.<Void>fromRunnable(() -> {
                    if (listening != null) {
                        listening.dispose();
                    }
                    store.close();
                }))
                .doFinally(s -> {
                    metrics.close();
                    fleet.close();
                    registry.remove(runningHere);
                });
    }
}
