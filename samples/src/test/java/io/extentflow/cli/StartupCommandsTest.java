package io.extentflow.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code main} builds only the command it runs (start-up time); help and usage errors still see
 * every command. Run as processes, since that choice is made in {@code main}.
 */
class StartupCommandsTest {

    @Test
    void helpForACommandShowsItsUsage() {
        Cli.Result r = Cli.runProcess(List.of(), "help", "copy");
        assertEquals(ExitCodes.OK, r.exitCode(), r::toString);
        assertTrue(r.out().contains("Usage: extentflow copy"), r::toString);
    }

    @Test
    void rootHelpListsEveryCommand() {
        Cli.Result r = Cli.runProcess(List.of(), "--help");
        assertEquals(ExitCodes.OK, r.exitCode(), r::toString);
        for (Class<?> c : Extentflow.SUBCOMMANDS) {
            picocli.CommandLine.Command command = c.getAnnotation(picocli.CommandLine.Command.class);
            if (!command.hidden()) {
                assertTrue(r.out().contains("  " + command.name() + " "), () -> command.name() + " missing from: " + r);
            }
        }
    }

    @Test
    void aNamedCommandRunsWithOnlyItsModel() {
        Cli.Result r = Cli.runProcess(List.of(), "map", "--help");
        assertEquals(ExitCodes.OK, r.exitCode(), r::toString);
        assertTrue(r.out().contains("Usage: extentflow map"), r::toString);
    }
}
