package io.extentflow.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;

/** The exit codes of every {@code extentflow} command, shown in each command's {@code --help}. */
public final class ExitCodes {

    /** The command did what was asked. */
    public static final int OK = 0;
    /** The operation failed: I/O error, unreadable or bad image, unusable target, failed verification. */
    public static final int FAILURE = 1;
    /** The command line was wrong: unknown option, missing argument, bad size. */
    public static final int USAGE = 2;

    private ExitCodes() {
    }

    /** Adds the exit code list to the help of {@code cl} and all its subcommands. */
    static void document(CommandLine cl) {
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put(" " + OK, "success");
        codes.put(" " + FAILURE, "the operation failed (I/O error, bad or unreadable image, unusable target, "
                + "verification failed); the reason is printed on one line");
        codes.put(" " + USAGE, "bad command line (unknown option, missing argument, bad size)");
        cl.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(codes);
        cl.getSubcommands().values().forEach(ExitCodes::document);
    }
}
