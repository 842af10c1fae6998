package io.extentflow.engine.endpoint;

/**
 * Sparse-stream addresses: {@code -} for standard input (as a source) or output (as a sink), and
 * local files whose name ends in {@code .sparse}.
 */
public final class StreamAddress {

    /** The file name suffix of sparse-stream files. */
    public static final String SUFFIX = ".sparse";

    private StreamAddress() {
    }

    /** True for {@code -}. */
    public static boolean isStdio(String address) {
        return address.equals("-");
    }

    /** True for {@code -} and for local files named {@code *.sparse}. */
    public static boolean isStream(String address) {
        return isStdio(address) || (FileAddress.isFile(address) && address.endsWith(SUFFIX));
    }
}
