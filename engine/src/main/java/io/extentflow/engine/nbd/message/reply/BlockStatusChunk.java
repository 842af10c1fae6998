package io.extentflow.engine.nbd.message.reply;

/**
 * {@code NBD_REPLY_TYPE_BLOCK_STATUS} (or {@code BLOCK_STATUS_EXT}): the status of consecutive ranges
 * from the request's offset for one metadata context.
 *
 * <p>Immutable: the descriptors are read one by one through {@link #length(int)} and
 * {@link #flags(int)}, never handed out as arrays.
 */
public final class BlockStatusChunk implements Reply {

    private final long cookie;
    private final boolean done;
    private final int contextId;
    private final long[] lengths;
    private final int[] flags;

    /**
     * Takes the arrays over, without a copy (a chunk may hold a million descriptors): the caller
     * must not keep or change them.
     *
     * @param cookie    the request's cookie
     * @param done      last chunk of the reply
     * @param contextId the context chosen by the server during the handshake
     * @param lengths   length of each descriptor (unsigned 32-bit on the wire unless extended)
     * @param flags     status flags of each descriptor, as many as {@code lengths}
     */
    public BlockStatusChunk(long cookie, boolean done, int contextId, long[] lengths, int[] flags) {
        if (lengths.length != flags.length) {
            throw new IllegalArgumentException(lengths.length + " lengths but " + flags.length + " flags");
        }
        this.cookie = cookie;
        this.done = done;
        this.contextId = contextId;
        this.lengths = lengths;
        this.flags = flags;
    }

    @Override
    public long cookie() {
        return cookie;
    }

    @Override
    public boolean done() {
        return done;
    }

    /** The context chosen by the server during the handshake. */
    public int contextId() {
        return contextId;
    }

    /** Number of descriptors. */
    public int count() {
        return lengths.length;
    }

    /** Length of descriptor {@code i}. */
    public long length(int i) {
        return lengths[i];
    }

    /** Status flags of descriptor {@code i}. */
    public int flags(int i) {
        return flags[i];
    }
}
