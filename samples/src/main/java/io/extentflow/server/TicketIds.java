package io.extentflow.server;

/**
 * Which ticket ids the server accepts: those a client can put in {@code /images/<id>} and reach.
 *
 * <p>As in ovirt-imageio, an id is one path segment of printable characters: one or more visible
 * ASCII characters ({@code !} to {@code ~}, 0x21 to 0x7E) other than {@code /}, {@code \},
 * {@code ?}, {@code #} and {@code %}, and neither {@code .} nor {@code ..}. A slash would split the
 * segment; {@code ?} and {@code #} end the path; {@code %} starts an escape; a backslash, {@code .}
 * and {@code ..} are rewritten by clients that normalize paths; spaces and control characters
 * (e.g. NUL) are not allowed in a request line. An id outside the rule could be added but never
 * served, so the control API refuses it with a 400 that states the rule.
 */
final class TicketIds {

    /** The rule, as the 400 reply states it. */
    static final String RULE = "a ticket id is one path segment: visible ASCII characters ('!' to '~')"
            + " other than '/', '\\', '?', '#' and '%', and not '.' or '..'";

    private TicketIds() {
    }

    /** True when {@code id} follows the rule. */
    static boolean valid(String id) {
        if (id.isEmpty() || id.equals(".") || id.equals("..")) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < '!' || c > '~' || c == '/' || c == '\\' || c == '?' || c == '#' || c == '%') {
                return false;
            }
        }
        return true;
    }

    /** Throws a 400 naming the rule unless {@code id} follows it. */
    static void require(String id) {
        if (!valid(id)) {
            throw ApiError.badRequest("Invalid value for 'uuid': " + printable(id) + ": " + RULE);
        }
    }

    /** The id in quotes, with characters that would break the one-line reply escaped as \\uXXXX. */
    private static String printable(String id) {
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c < ' ' || c > '~') {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('\'').toString();
    }
}
