package io.extentflow.engine.nbd.message;

/**
 * Numbers of the NBD wire protocol (NetworkBlockDevice/nbd {@code doc/proto.md}): magics, option
 * and reply codes, commands, flags and error values. Everything on the wire is big-endian.
 */
public final class NbdProtocol {

    private NbdProtocol() {
    }

    // Handshake
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454F5054L;
    /** The second magic of the obsolete oldstyle handshake, which we refuse. */
    public static final long OLDSTYLE_MAGIC = 0x00420281861253L;
    public static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;

    public static final int FLAG_FIXED_NEWSTYLE = 1;
    public static final int FLAG_NO_ZEROES = 2;
    public static final int CLIENT_FIXED_NEWSTYLE = 1;
    public static final int CLIENT_NO_ZEROES = 2;

    // Options
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;
    public static final int OPT_LIST_META_CONTEXT = 9;
    public static final int OPT_SET_META_CONTEXT = 10;
    public static final int OPT_EXTENDED_HEADERS = 11;

    // Option reply types
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_META_CONTEXT = 4;
    public static final int REP_FLAG_ERROR = 1 << 31;
    public static final int REP_ERR_UNSUP = REP_FLAG_ERROR | 1;
    public static final int REP_ERR_POLICY = REP_FLAG_ERROR | 2;
    public static final int REP_ERR_INVALID = REP_FLAG_ERROR | 3;
    public static final int REP_ERR_PLATFORM = REP_FLAG_ERROR | 4;
    public static final int REP_ERR_TLS_REQD = REP_FLAG_ERROR | 5;
    public static final int REP_ERR_UNKNOWN = REP_FLAG_ERROR | 6;
    public static final int REP_ERR_SHUTDOWN = REP_FLAG_ERROR | 7;
    public static final int REP_ERR_BLOCK_SIZE_REQD = REP_FLAG_ERROR | 8;
    public static final int REP_ERR_TOO_BIG = REP_FLAG_ERROR | 9;
    public static final int REP_ERR_EXT_HEADER_REQD = REP_FLAG_ERROR | 10;

    // Information types (NBD_OPT_INFO / NBD_OPT_GO)
    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    // Transmission flags
    public static final int TF_HAS_FLAGS = 1;
    public static final int TF_READ_ONLY = 1 << 1;
    public static final int TF_SEND_FLUSH = 1 << 2;
    public static final int TF_SEND_FUA = 1 << 3;
    public static final int TF_ROTATIONAL = 1 << 4;
    public static final int TF_SEND_TRIM = 1 << 5;
    public static final int TF_SEND_WRITE_ZEROES = 1 << 6;
    public static final int TF_SEND_DF = 1 << 7;
    public static final int TF_CAN_MULTI_CONN = 1 << 8;
    public static final int TF_SEND_CACHE = 1 << 10;
    public static final int TF_SEND_FAST_ZERO = 1 << 11;

    // Requests and replies
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    public static final int REQUEST_HEADER_SIZE = 28;
    /** Extended headers (NBD_OPT_EXTENDED_HEADERS): 32-byte requests with a 64-bit length. */
    public static final int EXTENDED_REQUEST_MAGIC = 0x21e41c71;
    public static final int EXTENDED_REQUEST_HEADER_SIZE = 32;
    /** Extended headers: every reply is a 32-byte chunk header with this magic. */
    public static final int EXTENDED_REPLY_MAGIC = 0x6e8a278c;
    public static final int EXTENDED_CHUNK_HEADER_SIZE = 32;
    public static final int SIMPLE_REPLY_SIZE = 16;
    public static final int CHUNK_HEADER_SIZE = 20;

    // Commands
    public static final int CMD_READ = 0;
    public static final int CMD_WRITE = 1;
    public static final int CMD_DISC = 2;
    public static final int CMD_FLUSH = 3;
    public static final int CMD_TRIM = 4;
    public static final int CMD_CACHE = 5;
    public static final int CMD_WRITE_ZEROES = 6;
    public static final int CMD_BLOCK_STATUS = 7;

    // Command flags
    public static final int CMD_FLAG_FUA = 1;
    public static final int CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int CMD_FLAG_DF = 1 << 2;
    public static final int CMD_FLAG_REQ_ONE = 1 << 3;
    public static final int CMD_FLAG_FAST_ZERO = 1 << 4;
    /** Extended headers: the length field counts payload bytes that follow the header. */
    public static final int CMD_FLAG_PAYLOAD_LEN = 1 << 5;

    // Structured reply chunks
    public static final int REPLY_FLAG_DONE = 1;
    public static final int CHUNK_NONE = 0;
    public static final int CHUNK_OFFSET_DATA = 1;
    public static final int CHUNK_OFFSET_HOLE = 2;
    public static final int CHUNK_BLOCK_STATUS = 5;
    public static final int CHUNK_BLOCK_STATUS_EXT = 6;
    public static final int CHUNK_ERROR = (1 << 15) + 1;
    public static final int CHUNK_ERROR_OFFSET = (1 << 15) + 2;
    public static final int CHUNK_FLAG_ERROR = 1 << 15;

    // Meta contexts and their status bits
    public static final String CONTEXT_BASE_ALLOCATION = "base:allocation";
    public static final String CONTEXT_ALLOCATION_DEPTH = "qemu:allocation-depth";
    /** The namespace of qemu's dirty bitmaps: {@code qemu:dirty-bitmap:NAME}; also the query listing them. */
    public static final String CONTEXT_DIRTY_BITMAP_PREFIX = "qemu:dirty-bitmap:";
    /** {@code qemu:dirty-bitmap:NAME}: bit 0 set where the range changed since the bitmap was cleared. */
    public static final int STATE_DIRTY = 1;
    public static final int STATE_HOLE = 1;
    public static final int STATE_ZERO = 2;

    // Error values on the wire
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    /** The name and meaning of an NBD error value, e.g. {@code EIO (input/output error)}. */
    public static String errorName(int error) {
        return switch (error) {
            case EPERM -> "EPERM (operation not permitted)";
            case EIO -> "EIO (input/output error)";
            case ENOMEM -> "ENOMEM (out of memory)";
            case EINVAL -> "EINVAL (invalid argument)";
            case ENOSPC -> "ENOSPC (no space left on device)";
            case EOVERFLOW -> "EOVERFLOW (value too large)";
            case ENOTSUP -> "ENOTSUP (operation not supported)";
            case ESHUTDOWN -> "ESHUTDOWN (server is shutting down)";
            default -> "error " + error + " (unknown; treated as EINVAL)";
        };
    }

    /** The name of an option reply error type. */
    public static String optionErrorName(int type) {
        return switch (type) {
            case REP_ERR_UNSUP -> "NBD_REP_ERR_UNSUP (option not supported)";
            case REP_ERR_POLICY -> "NBD_REP_ERR_POLICY (forbidden by server policy)";
            case REP_ERR_INVALID -> "NBD_REP_ERR_INVALID (invalid option)";
            case REP_ERR_PLATFORM -> "NBD_REP_ERR_PLATFORM (not supported on this platform)";
            case REP_ERR_TLS_REQD -> "NBD_REP_ERR_TLS_REQD (the server requires TLS, which this client does not support)";
            case REP_ERR_UNKNOWN -> "NBD_REP_ERR_UNKNOWN (no such export)";
            case REP_ERR_SHUTDOWN -> "NBD_REP_ERR_SHUTDOWN (server is shutting down)";
            case REP_ERR_BLOCK_SIZE_REQD -> "NBD_REP_ERR_BLOCK_SIZE_REQD (block size information required)";
            case REP_ERR_TOO_BIG -> "NBD_REP_ERR_TOO_BIG (request too big)";
            case REP_ERR_EXT_HEADER_REQD -> "NBD_REP_ERR_EXT_HEADER_REQD (extended headers required)";
            default -> "option error 0x" + Integer.toHexString(type);
        };
    }

    /** The name of a command, as used in messages. */
    public static String commandName(int command) {
        return switch (command) {
            case CMD_READ -> "read";
            case CMD_WRITE -> "write";
            case CMD_DISC -> "disconnect";
            case CMD_FLUSH -> "flush";
            case CMD_TRIM -> "trim";
            case CMD_CACHE -> "cache";
            case CMD_WRITE_ZEROES -> "zero";
            case CMD_BLOCK_STATUS -> "extents";
            default -> "command " + command;
        };
    }
}
