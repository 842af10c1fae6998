package io.extentflow.cli;

import io.extentflow.engine.copy.CopyProgress;
import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A progress bar on standard error, of the image done (data, zeroed and skipped alike), or nothing
 * at all when disabled. Like {@code pv} or {@code qemu-img convert -p}: one line of steady width,
 * redrawn in place five times a second, with a smoothed rate and the time left from the first
 * update on. {@link #update} is called from engine threads and only records a number; the line is
 * drawn by a thread of its own.
 */
final class CopyProgressBar implements AutoCloseable {

    private static final long REDRAW_MILLIS = 200;
    private static final int BAR_WIDTH = 24;
    /** Weight of the latest interval in the smoothed rate: about the last two seconds count. */
    private static final double SMOOTHING = 0.2;

    private final PrintStream err;
    private final String task;
    private final long size;
    private final long started = System.nanoTime();
    private final AtomicLong done = new AtomicLong(-1);
    private final ScheduledExecutorService drawer;
    private long lastDone;
    private long lastNanos = started;
    private double rate = -1;
    private int lastWidth;
    private boolean closed;

    private CopyProgressBar(PrintStream err, String task, long size, boolean show) {
        this.err = err;
        this.task = task;
        this.size = size;
        if (show) {
            drawer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "extentflow-progress");
                t.setDaemon(true);
                return t;
            });
            drawer.scheduleAtFixedRate(this::draw, 0, REDRAW_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            drawer = null;
        }
    }

    /** A bar for {@code size} bytes (negative: a stream of unknown size) if {@code show}, else a no-op. */
    static CopyProgressBar start(boolean show, String task, long size) {
        return new CopyProgressBar(System.err, task, size, show);
    }

    /** Records the copy's progress. */
    void update(CopyProgress p) {
        done.accumulateAndGet(p.done(), Math::max);
    }

    /** Draws the bar full one last time before the summary is printed. */
    void finish() {
        if (drawer != null && size >= 0) {
            done.accumulateAndGet(size, Math::max);
        }
    }

    /** Draws the last state and ends the line; safe to call twice. */
    @Override
    public synchronized void close() {
        if (drawer != null && !closed) {
            closed = true;
            drawer.shutdownNow();
            drawLine();
            err.print('\n');
            err.flush();
        }
    }

    private synchronized void draw() {
        if (!closed) {
            drawLine();
        }
    }

    private void drawLine() {
        long now = System.nanoTime();
        long d = done.get();
        if (d >= 0) {
            double seconds = (now - lastNanos) / 1e9;
            if (rate < 0) {
                // the first update: the average since the start
                rate = d / Math.max(1e-3, (now - started) / 1e9);
            } else if (seconds > 0) {
                rate += SMOOTHING * ((d - lastDone) / seconds - rate);
            }
            lastDone = d;
            lastNanos = now;
        }
        String line = line(Math.max(0, d), d >= 0);
        // pad over what a longer line before left, so the width never shrinks
        lastWidth = Math.max(lastWidth, line.length());
        err.print('\r' + line + " ".repeat(lastWidth - line.length()));
        err.flush();
    }

    /** E.g. {@code copy  42% [##########--------------]   3.4 GiB of    8 GiB   412 MiB/s  0:00:12 left}. */
    private String line(long d, boolean started) {
        StringBuilder b = new StringBuilder(96).append(task).append(' ');
        if (size > 0) {
            int percent = (int) Math.min(100, d * 100 / size);
            int filled = (int) Math.min(BAR_WIDTH, d * BAR_WIDTH / size);
            b.append(String.format("%3d%% [", percent)).append("#".repeat(filled))
                    .append("-".repeat(BAR_WIDTH - filled)).append("] ");
        }
        b.append(String.format("%9s", Sizes.human(d)));
        if (size >= 0) {
            b.append(" of ").append(String.format("%9s", Sizes.human(size)));
        }
        if (!started) {
            return b.append(String.format("  %11s  %13s", "", "")).toString();
        }
        b.append(String.format("  %9s/s", Sizes.human(Math.max(0, rate))));
        String left = size < 0 ? "" : rate <= 0 ? "--:--:-- left" : clock((size - d) / rate) + " left";
        return b.append(String.format("  %13s", left)).toString();
    }

    private static String clock(double seconds) {
        long s = (long) Math.ceil(Math.max(0, seconds));
        return String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
