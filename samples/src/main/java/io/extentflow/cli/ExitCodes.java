package io.extentflow.cli;

import java.util.List;

/** The exit codes of every {@code extentflow} command, shown in each command's {@code --help}. */
public final class ExitCodes {

    /** The command did what was asked. */
    public static final int OK = 0;
    /** The operation failed: I/O error, unreadable or bad image, unusable target, failed verification. */
    public static final int FAILURE = 1;
    /** The command line was wrong: unknown option, missing argument, bad size. */
    public static final int USAGE = 2;
    /**
     * Returned by a command that a signal stopped; the process itself exits with the JVM's code for
     * the signal: 130 for SIGINT (Ctrl-C), 143 for SIGTERM.
     */
    public static final int INTERRUPTED = 130;

    private ExitCodes() {
    }

    /** The exit code list that ends every command's help. */
    static String[] help() {
        return List.of("Exit codes:",
                "   " + OK + "   success",
                "   " + FAILURE + "   the operation failed (I/O error, bad or unreadable image, unusable target,",
                "         verification failed); the reason is printed on one line",
                "   " + USAGE + "   bad command line (unknown option, missing argument, bad size)",
                " 130   interrupted by Ctrl-C (SIGINT); 143 by SIGTERM").toArray(String[]::new);
    }
}
