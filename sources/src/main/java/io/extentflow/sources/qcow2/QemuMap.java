package io.extentflow.sources.qcow2;

import io.extentflow.engine.map.MapEntry;
import java.util.ArrayList;
import java.util.List;

/** Turns resolved runs into the entries {@code qemu-img map --output=json} prints, before they are merged. */
final class QemuMap {

    private QemuMap() {
    }

    /**
     * One entry per run. qemu prints a host offset for standard and preallocated clusters (also
     * preallocated but unallocated subclusters) and raw files, none for compressed clusters.
     */
    static List<MapEntry> entries(List<ChainRun> runs) {
        List<MapEntry> out = new ArrayList<>(runs.size());
        for (ChainRun cr : runs) {
            LayerRun r = cr.run();
            boolean present = r.kind() != LayerRun.Kind.UNALLOCATED;
            boolean data = switch (r.kind()) {
                case DATA, SPARSE_DATA, COMPRESSED -> true;
                case ZERO, UNALLOCATED -> false;
            };
            boolean zero = r.kind() != LayerRun.Kind.DATA && r.kind() != LayerRun.Kind.COMPRESSED;
            Long offset = r.kind() == LayerRun.Kind.COMPRESSED || r.host() < 0 ? null : r.host();
            out.add(new MapEntry(r.start(), r.length(), cr.depth(), present, zero, data, offset, null));
        }
        return out;
    }
}
