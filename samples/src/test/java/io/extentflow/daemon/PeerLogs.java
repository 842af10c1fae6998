package io.extentflow.daemon;

import io.extentflow.engine.testing.Await;
import io.extentflow.engine.testing.NbdkitLog;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Waits for what a peer writes in its log (nbdkit's log filter); on a timeout the message ends with
 * the log's last lines, to show what the peer saw.
 */
final class PeerLogs {

    private PeerLogs() {
    }

    /** Waits up to 10 s for {@code condition} to hold on the whole log. */
    private static void untilTrue(Path log, String what, Predicate<String> condition) {
        try {
            Await.until(Duration.ofSeconds(10), log + ": " + what, () -> condition.test(String.join("\n", NbdkitLog.lines(log))));
        } catch (AssertionError e) {
            List<String> lines = NbdkitLog.lines(log);
            String tail = String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
            throw new AssertionError(e.getMessage() + "; the log ends with:\n" + tail, e);
        }
    }

    /**
     * Waits until nbdkit has seen every connection in its log end: a {@code Disconnect} line, or a
     * request of that connection failing with {@code ESHUTDOWN}, which nbdkit returns from a delay
     * (nbdkit_nanosleep) cut short because the client hung up. (Once in CI, nbdkit 1.32 answered the
     * in-flight reads of all four connections of a cancelled copy with ESHUTDOWN and then logged no
     * Disconnect for 10 s.)
     */
    static void untilEveryConnectionEnded(Path log) {
        Pattern connect = Pattern.compile("connection=(\\d+) Connect ");
        Pattern end = Pattern.compile("connection=(\\d+) (Disconnect |.*error=ESHUTDOWN)");
        untilTrue(log, "every connection in it to end (Disconnect or ESHUTDOWN)", text -> {
            Set<String> connected = ids(connect, text);
            return !connected.isEmpty() && ids(end, text).containsAll(connected);
        });
    }

    private static Set<String> ids(Pattern pattern, String text) {
        Set<String> ids = new HashSet<>();
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }
}
