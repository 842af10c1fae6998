package io.extentflow.engine.nbd.server;

import io.extentflow.engine.ImageSink;
import io.extentflow.engine.ImageSource;
import io.extentflow.engine.capability.StatusMap;
import io.extentflow.engine.nbd.message.NbdProtocol;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What an {@link NbdServer} serves: one image under one export name. Reads come from the
 * {@code source}; a writable export also has a {@code sink} over the same image, which every
 * connection shares (so a flush on one connection covers writes completed on any).
 *
 * <p>Block sizes are qemu-nbd's: minimum 1, preferred 4 KiB, maximum payload 32 MiB (or the sink's
 * largest write when smaller).
 */
public final class NbdExport {

    /** The largest READ or WRITE payload: 32 MiB, what every client must accept (proto.md). */
    public static final int MAX_PAYLOAD = 32 << 20;
    /** Preferred block size advertised. */
    public static final int PREFERRED_BLOCK = 4096;

    private final String name;
    private final String description;
    private final ImageSource source;
    private final @Nullable ImageSink sink;
    private final boolean multiConn;
    private final Map<String, StatusMap> contexts;
    private final ExtentCache extents;
    private final StatusCache statuses;

    /**
     * @param name        the export name clients ask for ({@code ""} is the default export)
     * @param description shown by {@code NBD_OPT_LIST} and {@code NBD_INFO_DESCRIPTION}; may be empty
     * @param source      where reads come from; its size is the export's size
     * @param sink        where writes go, over the same image; null for a read-only export
     * @param multiConn   advertise {@code NBD_FLAG_CAN_MULTI_CONN}: only when every connection sees
     *                    the others' writes once they completed, and a flush on one makes all of them
     *                    durable (true of a read-only export, and of a sink whose own flush covers
     *                    every completed write, as a local file's does)
     */
    public NbdExport(String name, String description, ImageSource source, @Nullable ImageSink sink,
                     boolean multiConn) {
        this.name = Objects.requireNonNull(name, "name");
        this.description = Objects.requireNonNull(description, "description");
        this.source = Objects.requireNonNull(source, "source");
        if (source.size() < 0) {
            throw new IllegalArgumentException(source.endpoint() + ": a stream of unknown size cannot be served");
        }
        if (sink != null && sink.size() != source.size()) {
            throw new IllegalArgumentException("sink " + sink.endpoint() + " has " + sink.size()
                    + " bytes but source " + source.endpoint() + " has " + source.size());
        }
        this.sink = sink;
        this.multiConn = multiConn;
        this.contexts = ExportContexts.of(source);
        this.extents = new ExtentCache(source);
        this.statuses = new StatusCache(source.size());
    }

    /** The export name. */
    public String name() {
        return name;
    }

    /** The description, possibly empty. */
    public String description() {
        return description;
    }

    /** The image's size in bytes. */
    public long size() {
        return source.size();
    }

    /** True without a sink. */
    public boolean readOnly() {
        return sink == null;
    }

    /** The source reads come from. */
    public ImageSource source() {
        return source;
    }

    /** The sink writes go to, or null when read-only. */
    public @Nullable ImageSink sink() {
        return sink;
    }

    /** The largest WRITE (and READ) payload taken. */
    public int maxPayload() {
        return sink == null ? MAX_PAYLOAD : Math.min(MAX_PAYLOAD, sink.capabilities().maxWriteSize());
    }

    /** The metadata contexts offered, by name. */
    Map<String, StatusMap> contexts() {
        return contexts;
    }

    /** The source's extents, cached for READs (invalidated by every change). */
    ExtentCache extents() {
        return extents;
    }

    /** The block status of the ranges asked last (invalidated by every change). */
    StatusCache statuses() {
        return statuses;
    }

    /** The transmission flags sent to a client, which may send DF only with structured replies. */
    int transmissionFlags(boolean structuredReplies) {
        int flags = NbdProtocol.TF_HAS_FLAGS | NbdProtocol.TF_SEND_FLUSH | NbdProtocol.TF_SEND_FUA
                | NbdProtocol.TF_SEND_CACHE;
        if (structuredReplies) {
            flags |= NbdProtocol.TF_SEND_DF;
        }
        if (sink == null) {
            flags |= NbdProtocol.TF_READ_ONLY;
        } else {
            flags |= NbdProtocol.TF_SEND_WRITE_ZEROES | NbdProtocol.TF_SEND_FAST_ZERO | NbdProtocol.TF_SEND_TRIM;
        }
        if (multiConn) {
            flags |= NbdProtocol.TF_CAN_MULTI_CONN;
        }
        return flags;
    }
}
