package io.extentflow.cli.args;

/**
 * The command line is wrong: unknown option, missing or bad value. {@code extentflow} prints the
 * message on one line with a pointer to the command's {@code --help}, and exits with code 2.
 */
public final class UsageException extends RuntimeException {

    private final String command;

    /**
     * @param command the full name of the command whose usage was wrong ({@code extentflow copy})
     * @param message what was wrong
     */
    public UsageException(String command, String message) {
        super(message, null, false, false);
        this.command = command;
    }

    /** The full name of the command whose usage was wrong, e.g. {@code extentflow copy}. */
    public String command() {
        return command;
    }
}
