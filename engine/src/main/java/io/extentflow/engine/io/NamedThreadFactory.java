package io.extentflow.engine.io;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Daemon threads named {@code <prefix>-N} for one of our schedulers, which remember the factory
 * that made them: {@link #isCurrent()} tells code whether it already runs on that scheduler (and
 * may therefore block there instead of handing its work over).
 */
final class NamedThreadFactory implements ThreadFactory {

    private final String prefix;
    private final AtomicInteger count = new AtomicInteger();

    NamedThreadFactory(String prefix) {
        this.prefix = prefix;
    }

    @Override
    public Thread newThread(Runnable r) {
        return new NamedThread(r, prefix + "-" + count.incrementAndGet(), this);
    }

    /** True when the calling thread was made by this factory. */
    boolean isCurrent() {
        return Thread.currentThread() instanceof NamedThread t && t.factory == this;
    }

    private static final class NamedThread extends Thread {
        private final NamedThreadFactory factory;

        NamedThread(Runnable r, String name, NamedThreadFactory factory) {
            super(r, name);
            this.factory = factory;
            setDaemon(true);
        }
    }
}
