package io.extentflow.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Whether standard error is a terminal, to show a progress bar only to people, never into logs; and
 * whether standard output is, to never write binary data onto one.
 */
final class Terminal {

    private static final int STDOUT = 1;
    private static final int STDERR = 2;

    private Terminal() {
    }

    /** True if file descriptor 2 is a terminal ({@code isatty(2)}). */
    static boolean stderrIsTerminal() {
        return isTerminal(STDERR);
    }

    /** True if file descriptor 1 is a terminal ({@code isatty(1)}): no place for binary output. */
    static boolean stdoutIsTerminal() {
        return isTerminal(STDOUT);
    }

    private static boolean isTerminal(int fd) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle isatty = linker.downcallHandle(linker.defaultLookup().find("isatty").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) isatty.invokeExact(fd) == 1;
        } catch (Throwable t) {
            return false;
        }
    }
}
