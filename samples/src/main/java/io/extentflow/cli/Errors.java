package io.extentflow.cli;

import io.extentflow.engine.ImageIoException;
import io.extentflow.engine.nbd.NbdAddress;
import io.extentflow.engine.nbd.NbdException;
import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.nio.file.Path;
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
            case NbdException e when "connect".equals(e.operation()) && e.getCause() != null ->
                    "cannot connect to " + e.endpoint() + ": " + connectFailure(e.endpoint(), e.getCause())
                            + attempts(e.getMessage());
            case ImageIoException e when unwrap(e.getCause()) instanceof ConnectException ->
                    "cannot connect to " + e.endpoint() + ": " + connectFailure(e.endpoint(), e.getCause())
                            + attempts(e.getMessage());
            case ImageIoException e -> e.getMessage();
            case NoSuchFileException e when e.getReason() != null && e.getReason().startsWith("backing file") ->
                    e.getFile() + ": no such file: " + e.getReason();
            case NoSuchFileException e -> e.getFile() + ": no such file";
            case AccessDeniedException e -> e.getFile() + ": permission denied";
            case FileSystemException e -> e.getReason() == null ? e.getFile() + ": " + e.getClass().getSimpleName()
                    : e.getMessage();
            default -> ImageIoException.reason(c);
        };
        return oneLine(m);
    }

    /**
     * Why a connection to an NBD server could not be made, in the words of {@code nbdinfo}: Netty
     * names a refused connection "finishConnect(..) failed with error(-111): Connection refused:
     * /127.0.0.1:1", and a Unix socket that is not there only by the class of its exception.
     */
    private static String connectFailure(String endpoint, Throwable cause) {
        Throwable c = unwrap(cause);
        if (c instanceof FileNotFoundException || c instanceof NoSuchFileException) {
            Path socket = socketOf(endpoint);
            return socket == null ? "no such socket" : "no such socket " + socket;
        }
        String m = ImageIoException.reason(c);
        if (c instanceof ConnectException) {
            // "...error(-111): Connection refused: /127.0.0.1:1" -> "connection refused"
            int errno = m.indexOf("): ");
            String text = errno >= 0 ? m.substring(errno + 3) : m;
            int address = text.lastIndexOf(": ");
            text = address > 0 ? text.substring(0, address) : text;
            return text.isEmpty() ? m : Character.toLowerCase(text.charAt(0)) + text.substring(1);
        }
        return m;
    }

    /** The " (after N attempts)" that a request retried before failing ends its message with, or "". */
    private static String attempts(String message) {
        int at = message == null ? -1 : message.lastIndexOf(" (after ");
        return at < 0 || !message.endsWith(")") ? "" : message.substring(at);
    }

    private static Path socketOf(String endpoint) {
        try {
            return NbdAddress.parse(endpoint).socket();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * Strips wrappers that add nothing for a user (Reactor's checked-exception carrier, futures) and
     * keeps the first of several failures that Reactor joined into one (requests running side by
     * side that failed together, e.g. two writes on a full file system).
     */
    static Throwable unwrap(Throwable t) {
        if (t == null) {
            return null;
        }
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
