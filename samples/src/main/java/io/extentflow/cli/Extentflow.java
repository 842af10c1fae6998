package io.extentflow.cli;

import io.extentflow.server.cli.ServeCommand;
import io.extentflow.server.cli.TicketCommand;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import java.time.Duration;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.netty.http.HttpResources;
import reactor.netty.tcp.TcpResources;

/**
 * The {@code extentflow} command. Each subcommand is its own class; adding one is one line in
 * {@link #SUBCOMMANDS}.
 *
 * <p>Errors become one line on standard error ({@code extentflow: <message>}) and an exit code
 * from {@link ExitCodes}; {@code --debug} adds the stack trace. The commands block on the engine's
 * results here, at the edge of the program, on the main thread: never on a Reactor thread.
 */
@Command(name = "extentflow",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {"Copies and inspects disk images (raw, qcow2, NBD, imageio HTTP), moving only the data.",
                "", "New here? Run 'extentflow demo'."})
public final class Extentflow implements Runnable {

    /**
     * The subcommands, in the order help lists them. Not in the {@code @Command} annotation: picocli
     * builds the model of every listed command by reflection at start-up (170 ms of a 285 ms
     * {@code --version}), so a run that names its command gets only that one.
     */
    static final List<Class<?>> SUBCOMMANDS = List.of(DemoCommand.class, CopyCommand.class, MapCommand.class,
            InfoCommand.class, ChecksumCommand.class, ServeCommand.class, TicketCommand.class, TrainCommand.class,
            CommandLine.HelpCommand.class);

    @Spec
    CommandSpec spec;

    /** Shared by every subcommand (picocli copies inherited options into them). */
    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "On errors, print the stack trace too.")
    boolean debug;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "no command given (try 'extentflow demo')");
    }

    /** Runs the command and exits with its code. */
    public static void main(String[] args) {
        CommandLine cl = commandLine(args.length > 0 ? args[0] : null);
        Extentflow root = cl.getCommand();
        // When a copy fails, requests still in flight may fail too (e.g. every write on a full disk).
        // The first error is the one reported; Reactor would print the others with stack traces.
        Hooks.onErrorDropped(t -> {
            if (root.debug) {
                System.err.println("extentflow: also: " + Errors.message(t));
            }
        });
        int code = cl.execute(args);
        stopEventLoops();
        System.exit(code);
    }

    /**
     * Stops Reactor Netty's event loop threads before the JVM exits. A loop thread waits in
     * {@code epoll_wait}, native code, and the JVM's exit waits up to 300 ms for threads in native
     * code to come back: measured as 0.3 s added to every command that used the network.
     */
    private static void stopEventLoops() {
        try {
            Mono.when(TcpResources.disposeLoopsAndConnectionsLater(Duration.ZERO, Duration.ZERO),
                            HttpResources.disposeLoopsAndConnectionsLater(Duration.ZERO, Duration.ZERO))
                    .block(Duration.ofSeconds(1));
        } catch (RuntimeException ignored) {
            // exiting anyway: a loop that does not stop in time only costs the JVM's wait
        }
    }

    /** The command line with extentflow's error handling; tests run it in-process with their own writers. */
    public static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * The command line with only the subcommand named {@code first} when there is one by that name
     * (it is the command that will run), else with all of them (for help and for usage errors).
     */
    static CommandLine commandLine(String first) {
        Extentflow root = new Extentflow();
        CommandLine cl = new CommandLine(root);
        List<Class<?>> named = SUBCOMMANDS.stream()
                .filter(c -> c.getAnnotation(Command.class).name().equals(first)).toList();
        // `help COMMAND` needs the model of COMMAND: like anything that is not a command, all of them
        (named.isEmpty() || "help".equals(first) ? SUBCOMMANDS : named).forEach(cl::addSubcommand);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            err.println("extentflow: " + Errors.message(ex));
            if (root.debug) {
                ex.printStackTrace(err);
            }
            err.flush();
            return ExitCodes.FAILURE;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine failed = ex.getCommandLine();
            PrintWriter err = failed.getErr();
            err.println("extentflow: " + Errors.oneLine(ex.getMessage()) + " (see '"
                    + failed.getCommandSpec().qualifiedName() + " --help')");
            if (root.debug) {
                ex.printStackTrace(err);
            }
            err.flush();
            return ExitCodes.USAGE;
        });
        ExitCodes.document(cl);
        return cl;
    }
}
