package io.extentflow.engine.nbd.server;

import io.extentflow.engine.Extent;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.AllocationDepth;
import io.extentflow.engine.capability.AllocationExtents;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.capability.HostOffsets;
import io.extentflow.engine.capability.StatusMap;
import io.extentflow.engine.map.MapEntry;
import io.extentflow.engine.nbd.NbdExtent;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The metadata contexts an export offers, each from the best report its source has.
 *
 * <ul>
 *   <li>{@code base:allocation}: the source's own NBD status when it is an NBD export
 *       ({@link AllocationExtents}); else its host map ({@link HostOffsets}: hole where no file holds
 *       data, zero where it reads as zeros, exactly the flags qemu-nbd derives from the same block
 *       status); else its extents.</li>
 *   <li>{@code qemu:allocation-depth}: the source's {@link AllocationDepth} (qcow2 chains, NBD
 *       exports that offer it); else its host map (depth + 1 where allocated, 0 elsewhere, as qemu
 *       counts); else not offered.</li>
 *   <li>{@code qemu:dirty-bitmap:NAME}: the source's {@link DirtyExtents} when it was opened with a
 *       named bitmap (an NBD export's or a qcow2 image's, {@code --dirty-bitmap NAME}), as qemu-nbd
 *       {@code -B NAME} offers it.</li>
 * </ul>
 */
final class ExportContexts {

    private ExportContexts() {
    }

    /** The contexts of {@code source} by name, {@code base:allocation} first. */
    static Map<String, StatusMap> of(ImageSource source) {
        Map<String, StatusMap> contexts = new LinkedHashMap<>();
        contexts.put(NbdProtocol.CONTEXT_BASE_ALLOCATION, baseAllocation(source));
        allocationDepth(source).ifPresent(m -> contexts.put(NbdProtocol.CONTEXT_ALLOCATION_DEPTH, m));
        // a bitmap without a name (imageio's context=dirty) has no qemu:dirty-bitmap:NAME to offer
        source.capability(DirtyExtents.class).filter(d -> !d.bitmap().isEmpty())
                .ifPresent(d -> contexts.put(d.context(), d));
        return Collections.unmodifiableMap(contexts);
    }

    private static StatusMap baseAllocation(ImageSource source) {
        Optional<AllocationExtents> own = source.capability(AllocationExtents.class);
        if (own.isPresent()) {
            return own.get();
        }
        Optional<HostOffsets> host = source.capability(HostOffsets.class);
        if (host.isPresent()) {
            HostOffsets map = host.get();
            return (AllocationExtents) (start, length) -> map.map(start, length)
                    .map(e -> new NbdExtent(e.start(), e.length(), allocationFlags(e)));
        }
        return (AllocationExtents) (start, length) -> source.extents(start, length)
                .map(e -> new NbdExtent(e.start(), e.length(), allocationFlags(e)));
    }

    private static int allocationFlags(MapEntry e) {
        return (e.data() ? 0 : NbdProtocol.STATE_HOLE) | (e.zero() ? NbdProtocol.STATE_ZERO : 0);
    }

    /** A hole that does not read as zeros would be backing data the source hides: reported as data. */
    private static int allocationFlags(Extent e) {
        if (!e.zero()) {
            return 0;
        }
        return NbdProtocol.STATE_ZERO | (e.hole() ? NbdProtocol.STATE_HOLE : 0);
    }

    private static Optional<StatusMap> allocationDepth(ImageSource source) {
        Optional<AllocationDepth> own = source.capability(AllocationDepth.class);
        if (own.isPresent()) {
            return Optional.of(own.get());
        }
        return source.capability(HostOffsets.class).map(map -> (AllocationDepth) (start, length) -> map
                .map(start, length)
                .map(e -> new NbdExtent(e.start(), e.length(), e.present() ? e.depth() + 1 : 0)));
    }
}
