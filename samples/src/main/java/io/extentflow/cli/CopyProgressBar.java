package io.extentflow.cli;

import io.extentflow.engine.copy.CopyProgress;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on standard error, in MiB of the image done (data, zeroed and skipped alike), or
 * nothing at all when disabled. {@link #update} is called from engine threads: it only records a
 * number; the bar draws itself from its own thread.
 */
final class CopyProgressBar implements AutoCloseable {

    private final ProgressBar bar;
    private boolean closed;

    private CopyProgressBar(ProgressBar bar) {
        this.bar = bar;
    }

    /** A bar for {@code size} bytes if {@code show}, else a no-op. */
    static CopyProgressBar start(boolean show, String task, long size) {
        if (!show) {
            return new CopyProgressBar(null);
        }
        return new CopyProgressBar(new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(size)
                .setUnit("MiB", 1 << 20)
                .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                .setUpdateIntervalMillis(200)
                .showSpeed()
                .build());
    }

    /** Records the copy's progress. */
    void update(CopyProgress p) {
        if (bar != null) {
            bar.stepTo(p.done());
        }
    }

    /** Draws the bar full one last time before the summary is printed. */
    void finish() {
        if (bar != null) {
            bar.stepTo(bar.getMax());
            bar.refresh();
        }
    }

    /** Stops drawing; safe to call twice. */
    @Override
    public void close() {
        if (bar != null && !closed) {
            closed = true;
            bar.close();
        }
    }
}
