package io.extentflow.sources.http;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.capability.DirtyExtents;
import io.extentflow.engine.dirty.DirtyExtent;
import io.extentflow.engine.extent.Runs;
import io.extentflow.engine.imageio.Features;
import io.extentflow.engine.imageio.ImageOptions;
import io.extentflow.engine.imageio.ImageioClient;
import io.extentflow.engine.nbd.NbdExtent;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An imageio ticket's dirty extents ({@code GET .../extents?context=dirty}) as a bitmap: 1 where
 * {@code dirty} is true. From a server with {@value Features#EXTENTS_RANGE} (ours) each range is
 * asked for with {@code start}/{@code length}; from one without (ovirt-imageio) the whole list is
 * fetched once, as imageio's own client does, and ranges are cut from it. A ticket without dirty
 * extents fails the first request with the server's 404.
 */
final class HttpDirtyExtents implements DirtyExtents {

    /** Bytes of image per request to a server that takes ranges. */
    static final long WINDOW = 1L << 30;

    private final ImageioClient client;
    private final ImageOptions options;
    private final long size;
    private final AtomicReference<Mono<List<DirtyExtent>>> whole = new AtomicReference<>();

    HttpDirtyExtents(ImageioClient client, ImageOptions options, long size) {
        this.client = client;
        this.options = options;
        this.size = size;
    }

    /** imageio names no bitmap: the ticket chose it. */
    @Override
    public String bitmap() {
        return "";
    }

    @Override
    public Flux<NbdExtent> map(long start, long length) {
        if (!ImageIoException.fits(start, length, size)) {
            return Flux.error(ImageIoException.outside("dirty extents", client.url(), start, length, size));
        }
        if (length == 0) {
            return Flux.empty();
        }
        if (options.has(Features.EXTENTS_RANGE) && length > WINDOW) {
            // one window at a time: a fragmented bitmap's whole list is never held
            long windows = length / WINDOW + (length % WINDOW == 0 ? 0 : 1);
            return Flux.range(0, (int) Math.min(windows, Integer.MAX_VALUE))
                    .concatMap(i -> {
                        long ws = start + i * WINDOW;
                        return map(ws, Math.min(WINDOW, start + length - ws));
                    }, 1);
        }
        long end = start + length;
        Mono<List<DirtyExtent>> list = options.has(Features.EXTENTS_RANGE) ? client.dirtyExtents(start, length)
                : wholeList();
        return list.flatMapMany(l -> {
            List<NbdExtent> out = new ArrayList<>();
            long reached = start;
            for (DirtyExtent d : l) {
                if (d.end() <= start || d.start() >= end) {
                    continue;
                }
                long s = Math.max(start, d.start());
                if (s != reached) {
                    return Flux.error(new ImageIoException("dirty extents", client.url(), start, length,
                            "the server's dirty extents have a gap or overlap at " + reached, null));
                }
                long e = Math.min(end, d.end());
                Runs.append(out, new NbdExtent(s, e - s, d.dirty() ? NbdProtocol.STATE_DIRTY : 0));
                reached = e;
            }
            if (reached != end) {
                return Flux.error(new ImageIoException("dirty extents", client.url(), start, length,
                        "the server's dirty extents end at " + reached + ", before " + end, null));
            }
            return Flux.fromIterable(out);
        });
    }

    private Mono<List<DirtyExtent>> wholeList() {
        Mono<List<DirtyExtent>> m = whole.get();
        if (m == null) {
            Mono<List<DirtyExtent>> fetch = client.dirtyExtents(null, null).cache();
            m = whole.compareAndSet(null, fetch) ? fetch : whole.get();
        }
        return m;
    }
}
