package io.extentflow.engine.nbd;

import io.extentflow.engine.nbd.message.NbdProtocol;
import java.util.List;

/**
 * What the handshake told about an export.
 *
 * @param name           the export name
 * @param size           bytes
 * @param flags          transmission flags ({@code NbdProtocol.TF_*})
 * @param minimumBlock   offsets and lengths must be multiples of this (1 when not stated)
 * @param preferredBlock requests should be multiples of this (4096 when not stated)
 * @param maximumPayload largest read or write payload (32 MiB when not stated)
 * @param contexts       metadata contexts the server selected, e.g. {@code base:allocation}
 * @param extendedHeaders the connection uses extended (64-bit) headers
 */
public record ExportInfo(String name, long size, int flags, int minimumBlock, int preferredBlock,
                         int maximumPayload, List<String> contexts, boolean extendedHeaders) {

    /** The defaults of the spec for a server that states no block sizes. */
    public static final int DEFAULT_MINIMUM_BLOCK = 1;
    public static final int DEFAULT_PREFERRED_BLOCK = 4096;
    public static final int DEFAULT_MAXIMUM_PAYLOAD = 32 << 20;

    public ExportInfo {
        contexts = List.copyOf(contexts);
    }

    public boolean readOnly() {
        return has(NbdProtocol.TF_READ_ONLY);
    }

    public boolean canFlush() {
        return has(NbdProtocol.TF_SEND_FLUSH);
    }

    public boolean canWriteZeroes() {
        return has(NbdProtocol.TF_SEND_WRITE_ZEROES);
    }

    public boolean canFastZero() {
        return has(NbdProtocol.TF_SEND_FAST_ZERO) && canWriteZeroes();
    }

    public boolean canMultiConn() {
        return has(NbdProtocol.TF_CAN_MULTI_CONN);
    }

    public boolean canTrim() {
        return has(NbdProtocol.TF_SEND_TRIM);
    }

    /** True if the server selected {@code context} for block status. */
    public boolean hasContext(String context) {
        return contexts.contains(context);
    }

    private boolean has(int flag) {
        return (flags & flag) != 0;
    }
}
