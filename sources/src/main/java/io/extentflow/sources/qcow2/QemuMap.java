package io.extentflow.sources.qcow2;

import io.extentflow.engine.map.MapEntry;
import io.extentflow.engine.map.QemuMapMerger;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Turns resolved runs into the entries {@code qemu-img map --output=json} prints, merged by its rules. */
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

    /** Merges adjacent entries as qemu-img map does. */
    static Flux<MapEntry> merge(Flux<MapEntry> entries) {
        return Flux.defer(() -> {
            MapEntry[] pending = new MapEntry[1];
            return entries.<MapEntry>handle((e, sink) -> {
                MapEntry p = pending[0];
                if (p != null && p.start() + p.length() == e.start() && QemuMapMerger.mergeable(p, e)) {
                    pending[0] = new MapEntry(p.start(), p.length() + e.length(), p.depth(), p.present(), p.zero(),
                            p.data(), p.offset(), p.compressed());
                } else {
                    pending[0] = e;
                    if (p != null) {
                        sink.next(p);
                    }
                }
            }).concatWith(Mono.fromSupplier(() -> pending[0]));
        });
    }
}
