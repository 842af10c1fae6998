package io.extentflow.cli;

import io.extentflow.cli.args.ArgumentParser;
import io.extentflow.cli.args.CommandSpec;
import io.extentflow.cli.args.CommandSpec.Console;
import io.extentflow.cli.args.HelpText;
import io.extentflow.cli.args.OptionSpec;
import io.extentflow.cli.args.UsageException;
import io.extentflow.server.cli.ServeCommand;
import io.extentflow.server.cli.TicketCommand;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.netty.http.HttpResources;
import reactor.netty.tcp.TcpResources;

/**
 * The {@code extentflow} command. Each subcommand is its own class with a {@code spec()} that
 * declares its command line; adding one is one line in {@link #subcommands()}.
 *
 * <p>Errors become one line on standard error ({@code extentflow: <message>}) and an exit code
 * from {@link ExitCodes}; {@code --debug} adds the stack trace. The commands block on the engine's
 * results here, at the edge of the program, on the main thread: never on a Reactor thread.
 */
public final class Extentflow {

    /** The engine's loggers, held so that the level set here stays (java.util.logging keeps loggers weakly). */
    private static final Logger ENGINE_LOG = Logger.getLogger("io.extentflow");
    /** Reactor's and Reactor Netty's loggers (through java.util.logging, see {@link #main}), held likewise. */
    private static final Logger REACTOR_LOG = Logger.getLogger("reactor");

    private boolean debug;
    private final boolean ownsProcess;

    private Extentflow(boolean ownsProcess) {
        this.ownsProcess = ownsProcess;
    }

    /** The subcommands, in the order help lists them. */
    static List<CommandSpec> subcommands() {
        return List.of(DemoCommand.spec(), CopyCommand.spec(), MapCommand.spec(), InfoCommand.spec(),
                MeasureCommand.spec(), ChecksumCommand.spec(), NbdCommand.spec(), ServeCommand.spec(new ServeCommand()),
                TicketCommand.spec(),
                TrainCommand.spec());
    }

    /** The whole command tree, with {@code --debug} setting this run's flag. */
    private CommandSpec spec() {
        CommandSpec root = CommandSpec.named("extentflow",
                        "Copies and inspects disk images (raw, qcow2, NBD, imageio HTTP), moving only the data.",
                        "", "New here? Run 'extentflow demo'.")
                .add(new OptionSpec(List.of("-V", ArgumentParser.VERSION_OPTION), null,
                        "Print version information and exit.", null, false, false, v -> { }))
                .flag("--debug", "On errors, print the stack trace too.", () -> debug = true)
                .epilog(ExitCodes.help())
                .action(console -> {
                    throw new UsageException("extentflow", "no command given (try 'extentflow demo')");
                });
        subcommands().forEach(root::subcommand);
        return root.subcommand(helpCommand(root));
    }

    /** {@code extentflow help [COMMAND]}. */
    private static CommandSpec helpCommand(CommandSpec root) {
        String[] name = new String[1];
        return CommandSpec.named("help", "Show the help of COMMAND, or of extentflow.")
                .optionalParameter("COMMAND", "The command to explain.", v -> name[0] = v)
                .action(console -> {
                    CommandSpec command = name[0] == null ? root : root.subcommands().get(name[0]);
                    if (command == null) {
                        throw new UsageException("extentflow help", "Unknown command: '" + name[0] + "'");
                    }
                    console.out().print(HelpText.of(command));
                    return ExitCodes.OK;
                });
    }

    /** Runs the command and exits with its code. */
    public static void main(String[] args) {
        // Netty logs through java.util.logging here in any case (the jar has no SLF4J provider);
        // saying so up front spares every start its search of SLF4J and both Log4Js, classes loaded
        // from the jar and checked on the way to the first connection.
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
        // Reactor too (its fallback prints to stderr, beyond the levels set here)
        reactor.util.Loggers.useJdkLoggers();
        Extentflow run = new Extentflow(true);
        // When a copy fails, requests still in flight may fail too (e.g. every write on a full disk).
        // The first error is the one reported; Reactor would print the others with stack traces.
        PrintWriter err = new PrintWriter(System.err, true);
        Hooks.onErrorDropped(t -> {
            if (run.debug) {
                err.println("extentflow: also: " + Errors.message(t));
            }
        });
        int code = run.run(new Console(new PrintWriter(System.out, true), err), args);
        if (Interruption.exiting()) {
            // A signal is ending the JVM with its own code (130, 143) once the cleanup that the
            // command just finished lets the shutdown hook return; System.exit here would wait forever.
            return;
        }
        stopEventLoops();
        System.exit(code);
    }

    /**
     * Runs one command line, printing to {@code console}; returns the exit code. Tests run commands
     * in-process with this.
     */
    public static int execute(Console console, String... args) {
        return new Extentflow(false).run(console, args);
    }

    private int run(Console console, String... args) {
        PrintWriter err = console.err();
        try {
            ArgumentParser.Invocation invocation = ArgumentParser.parse(spec(), List.of(args));
            if (ownsProcess && !debug && !invocation.command().name().equals("serve")
                    && !invocation.command().name().equals("nbd")) {
                // The engine logs each retry (INFO) for servers and daemons, whose logs keep them; a
                // command's user reads one line about the outcome, and sees the retries with --debug.
                ENGINE_LOG.setLevel(Level.WARNING);
                // Reactor Netty warns, with a stack trace, of a connection that failed while a request
                // body was being sent (a server gone mid-upload): the command's error line says it already.
                REACTOR_LOG.setLevel(Level.SEVERE);
            }
            return switch (invocation.request()) {
                case HELP -> {
                    console.out().print(HelpText.of(invocation.command()));
                    yield ExitCodes.OK;
                }
                case VERSION -> {
                    Version.lines().forEach(console.out()::println);
                    yield ExitCodes.OK;
                }
                case RUN -> invocation.command().action().run(console);
            };
        } catch (UsageException e) {
            err.println("extentflow: " + Errors.oneLine(e.getMessage()) + " (see '" + e.command() + " --help')");
            if (debug) {
                e.printStackTrace(err);
            }
            return ExitCodes.USAGE;
        } catch (Exception e) {
            err.println("extentflow: " + Errors.message(e));
            if (debug) {
                e.printStackTrace(err);
            }
            return ExitCodes.FAILURE;
        } finally {
            console.out().flush();
            err.flush();
        }
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
}
