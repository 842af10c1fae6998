package io.extentflow.cli;

import io.extentflow.engine.ImageIoException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import reactor.core.Exceptions;

/** Turns any failure into the one line a user reads after {@code extentflow: }. */
final class Errors {

    private Errors() {
    }

    /** The cause of {@code t} in one line, without Reactor's and the JDK's wrappers. */
    static String message(Throwable t) {
        Throwable c = unwrap(t);
        String m = switch (c) {
            case ImageIoException e -> e.getMessage();
            case NoSuchFileException e -> e.getFile() + ": no such file";
            case AccessDeniedException e -> e.getFile() + ": permission denied";
            case FileSystemException e -> e.getReason() == null ? e.getFile() + ": " + e.getClass().getSimpleName()
                    : e.getMessage();
            default -> ImageIoException.reason(c);
        };
        return oneLine(m);
    }

    /**
     * Strips wrappers that add nothing for a user (Reactor's checked-exception carrier, futures) and
     * keeps the first of several failures that Reactor joined into one (requests running side by
     * side that failed together, e.g. two writes on a full file system).
     */
    static Throwable unwrap(Throwable t) {
        Throwable c = Exceptions.unwrap(t);
        while (true) {
            List<Throwable> joined = Exceptions.isMultiple(c) ? Exceptions.unwrapMultiple(c) : List.of();
            if (!joined.isEmpty()) {
                c = Exceptions.unwrap(joined.get(0));
            } else if ((c instanceof CompletionException || c instanceof ExecutionException
                    || c instanceof UncheckedIOException) && c.getCause() != null) {
                c = Exceptions.unwrap(c.getCause());
            } else {
                return c;
            }
        }
    }

    /** Newlines and tabs become spaces so the message stays one line. */
    static String oneLine(String m) {
        return m == null ? "" : m.strip().replaceAll("\\s*[\\r\\n]+\\s*", "; ").replace('\t', ' ');
    }
}
