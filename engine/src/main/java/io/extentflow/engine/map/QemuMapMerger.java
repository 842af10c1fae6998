package io.extentflow.engine.map;

import java.util.function.Consumer;

/**
 * Merges adjacent map entries the way {@code qemu-img map} does before printing: equal depth,
 * present, zero, data and compressed flags, both with or both without a host offset, and host
 * offsets that continue each other. Sources may answer in windows; merging here makes the printed
 * map independent of their window size.
 */
public final class QemuMapMerger {

    private final Consumer<MapEntry> downstream;
    private MapEntry pending;

    /** @param downstream receives each merged entry once it cannot grow any more */
    public QemuMapMerger(Consumer<MapEntry> downstream) {
        this.downstream = downstream;
    }

    /** Adds the next entry (ascending, contiguous); zero-length entries are ignored. */
    public void add(MapEntry next) {
        if (next.length() == 0) {
            return;
        }
        if (pending == null) {
            pending = next;
        } else if (mergeable(pending, next)) {
            pending = new MapEntry(pending.start(), pending.length() + next.length(), pending.depth(),
                    pending.present(), pending.zero(), pending.data(), pending.offset(), pending.compressed());
        } else {
            downstream.accept(pending);
            pending = next;
        }
    }

    /** Hands over the last entry. */
    public void finish() {
        if (pending != null) {
            downstream.accept(pending);
            pending = null;
        }
    }

    /** qemu's rule (qemu-img.c {@code entry_mergeable}). */
    public static boolean mergeable(MapEntry a, MapEntry b) {
        if (a.depth() != b.depth() || a.present() != b.present() || a.zero() != b.zero() || a.data() != b.data()
                || !java.util.Objects.equals(a.compressed(), b.compressed())
                || (a.offset() == null) != (b.offset() == null)) {
            return false;
        }
        return a.offset() == null || a.offset() + a.length() == b.offset();
    }
}
