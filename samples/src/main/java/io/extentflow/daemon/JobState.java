package io.extentflow.daemon;

import java.util.Locale;

/** Where a copy job is in its life. Jobs go queued, running, then one of the three terminal states. */
public enum JobState {
    QUEUED, RUNNING, DONE, FAILED, CANCELLED;

    /** The name in the API and the journal: {@code queued}, {@code running}, ... */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The state named {@code wire}; fails on an unknown name. */
    public static JobState ofWire(String wire) {
        return valueOf(wire.toUpperCase(Locale.ROOT));
    }

    /** True for states a job never leaves. */
    public boolean terminal() {
        return this == DONE || this == FAILED || this == CANCELLED;
    }
}
