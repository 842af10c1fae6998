package io.extentflow.daemon;

/**
 * How many jobs a fleet daemon claims ahead of its free slots ({@link FleetJobManager}): enough that
 * its slots never wait for an exchange with the database, and none while its jobs are long.
 *
 * <p>A daemon has one exchange in flight at a time, and a slot that frees takes the next job claimed
 * ahead. While an exchange is in flight, the running jobs go on ending; if fewer jobs wait than end
 * meanwhile, slots stand idle until the answer comes. So the jobs kept ahead must cover what ends in
 * an exchange: with {@code slots} jobs of {@code run} seconds each, {@code slots × exchange / run} of
 * them, four times that for the exchanges that take longer than the average (their time varies
 * widely on a busy machine; with twice, a third of the jobs still found none waiting when their slot
 * freed). An exchange's time is mostly not the database's work (1.5 ms to parse, plan, run and commit
 * it) but the hops between the daemon, the driver's event loop and a PostgreSQL backend, each waiting
 * for a CPU: 12-20 ms against a 3 ms job for fresh daemons on 2 otherwise idle CPUs, 20-70 ms under
 * load, so the depth follows what is measured rather than a constant.
 *
 * <p>Never fewer than {@code slots} (one batch of short jobs in reserve), never more than
 * {@code most}. None at all while the last job that ended here ran for a poll interval or longer:
 * long jobs gain nothing from it and would keep other daemons waiting for the jobs held here. Safe
 * for use by several threads; the averages are estimates, and a lost update among racing threads
 * only moves them a little.
 */
final class ClaimAhead {

    /** The weight of a new measurement in an average (the last 8 or so count). */
    private static final double WEIGHT = 1.0 / 8;
    /** How many times what ends during an average exchange is kept ahead. */
    private static final int MARGIN = 4;

    private final int slots;
    private final int most;
    private final long shortNanos;
    /** How long the last job that ended here ran, in nanoseconds; long until one has. */
    private volatile long lastRunNanos = Long.MAX_VALUE;
    private volatile double runNanos;
    private volatile double exchangeNanos;

    /**
     * @param slots      jobs the daemon runs at once ({@code --max-jobs})
     * @param most       most jobs claimed ahead; 0 for never (under a per-host limit a job claimed
     *                   ahead would hold one of its host's places while it waits)
     * @param shortNanos jobs that run at least this long are not claimed ahead (the poll interval)
     */
    ClaimAhead(int slots, int most, long shortNanos) {
        if (slots <= 0 || most < 0 || shortNanos <= 0) {
            throw new IllegalArgumentException("slots " + slots + ", most " + most + ", short " + shortNanos);
        }
        this.slots = slots;
        this.most = most;
        this.shortNanos = shortNanos;
    }

    /** A job that ended here ran for {@code nanos}. */
    void jobRan(long nanos) {
        lastRunNanos = nanos;
        runNanos = runNanos == 0 ? nanos : runNanos + WEIGHT * (nanos - runNanos);
    }

    /** An exchange took {@code nanos}, sent to answered. */
    void exchanged(long nanos) {
        exchangeNanos = exchangeNanos == 0 ? nanos : exchangeNanos + WEIGHT * (nanos - exchangeNanos);
    }

    /** Jobs claimed ahead waited too long here: none claimed ahead until a short job ends again. */
    void stop() {
        lastRunNanos = Long.MAX_VALUE;
    }

    /** How many jobs to keep claimed ahead of the free slots now. */
    int jobs() {
        if (most == 0 || lastRunNanos >= shortNanos) {
            return 0;
        }
        double run = Math.max(runNanos, 1);
        double ending = MARGIN * slots * exchangeNanos / run;
        return (int) Math.min(most, Math.max(slots, Math.ceil(ending)));
    }
}
