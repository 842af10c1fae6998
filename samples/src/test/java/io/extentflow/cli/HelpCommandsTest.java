package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.OptionSpec;
import org.junit.jupiter.api.Test;

/** {@code --help}, {@code help COMMAND} and {@code --version}: what a user reads before anything else. */
class HelpCommandsTest {

    @Test
    void rootHelpListsEveryVisibleCommand() {
        Cli.Result r = Cli.run("--help");
        assertEquals(ExitCodes.OK, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("Usage: extentflow [OPTIONS] COMMAND"), r::toString);
        for (CommandSpec c : Extentflow.subcommands()) {
            assertEquals(!c.isHidden(), r.out().contains("\n  " + c.name() + " "), () -> c.name() + " in: " + r);
        }
    }

    @Test
    void everyCommandDocumentsEveryOptionAndTheExitCodes() {
        for (CommandSpec c : Extentflow.subcommands()) {
            Cli.Result r = Cli.run("help", c.name());
            assertEquals(ExitCodes.OK, r.exitCode(), r::toString);
            assertTrue(r.out().startsWith("Usage: extentflow " + c.name()), r::toString);
            assertTrue(r.out().contains("Exit codes:"), r::toString);
            assertTrue(r.out().contains("--debug"), () -> "the root's options are inherited: " + r);
            for (OptionSpec o : c.options()) {
                assertTrue(r.out().contains(o.longName().substring(2)), () -> o.longName() + " missing from: " + r);
                assertFalse(o.description().isBlank(), o.longName() + " has no description");
            }
        }
    }

    @Test
    void helpAfterACommandIsThatCommandsHelp() {
        Cli.Result r = Cli.run("map", "--help");
        assertEquals(ExitCodes.OK, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("Usage: extentflow map [OPTIONS] IMAGE"), r::toString);
        assertTrue(r.out().contains("--output=FORMAT"), r::toString);
        assertTrue(r.out().contains("Default: human."), r::toString);
        Cli.Result ticket = Cli.run("ticket", "add", "--help");
        assertTrue(ticket.out().startsWith("Usage: extentflow ticket add [OPTIONS]"), ticket::toString);
        assertTrue(ticket.out().contains("--control-socket"), () -> "inherited from ticket: " + ticket);
    }

    @Test
    void versionNamesTheJvm() {
        Cli.Result r = Cli.run("--version");
        assertEquals(ExitCodes.OK, r.exitCode(), r::toString);
        assertTrue(r.out().startsWith("extentflow "), r::toString);
        assertTrue(r.out().contains("Java " + Runtime.version()), r::toString);
    }

    @Test
    void noCommandIsAUsageError() {
        Cli.Result r = Cli.run();
        assertEquals(ExitCodes.USAGE, r.exitCode(), r::toString);
        assertTrue(r.err().contains("no command given (try 'extentflow demo')"), r::toString);
        assertEquals(ExitCodes.USAGE, Cli.run("help", "frobnicate").exitCode());
    }
}
