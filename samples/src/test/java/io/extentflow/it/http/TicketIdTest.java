package io.extentflow.it.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ticket ids: the control API accepts exactly the ids the data API can serve (one path segment of
 * visible ASCII characters, as docs/imageio-server.md states) and refuses the others with a 400
 * that states the rule.
 */
class TicketIdTest {

    private static final String RULE = "a ticket id is one path segment: visible ASCII characters ('!' to '~')"
            + " other than '/', '\\', '?', '#' and '%', and not '.' or '..'";

    @TempDir
    Path dir;
    private ServerFixture f;
    private Path image;

    @BeforeEach
    void start() throws Exception {
        image = Files.write(dir.resolve("a.raw"), new byte[4096]);
        f = new ServerFixture(dir);
    }

    @AfterEach
    void stop() {
        f.close();
    }

    /** A ticket with {@code uuidJson} (a JSON string literal) as its id. */
    private ServerFixture.Reply put(String uuidJson) {
        return f.request(f.control, HttpMethod.PUT, "/tickets/x", "{\"uuid\":" + uuidJson + ",\"size\":4096,"
                + "\"url\":\"file://" + image + "\",\"timeout\":300,\"ops\":[\"read\"]}");
    }

    @ParameterizedTest(name = "refused: {0}")
    @ValueSource(strings = {"\"a/b\"", "\"../evil\"", "\"x\\u0000y\"", "\".\"", "\"..\"", "\"a b\"", "\"a?b\"",
            "\"a#b\"", "\"a%2Fb\"", "\"a\\\\b\"", "\"tab\\there\"", "\"caf\\u00e9\"", "\"del\\u007f\""})
    void unservableIdsAreRefused(String uuidJson) {
        ServerFixture.Reply r = put(uuidJson);
        assertEquals(400, r.status(), r.body());
        assertTrue(r.body().startsWith("Invalid value for 'uuid': '"), r.body());
        assertTrue(r.body().endsWith(": " + RULE + "\n"), r.body());
        assertEquals(0, f.server.tickets().size());
    }

    @ParameterizedTest(name = "served: {0}")
    @ValueSource(strings = {"abc", "6f9a1b2c-0d3e-4f5a-8b7c-9d0e1f2a3b4c", "a.b", ".x", "...", "-_~", "!$&'()*+,;=:@",
            "\"quoted\"", "<>[]{}|^`"})
    void servableIdsAreAcceptedAndReachable(String id) {
        String uuidJson = "\"" + id.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        assertEquals(200, put(uuidJson).status());
        ServerFixture.Reply options = f.request(f.data, HttpMethod.OPTIONS, "/images/" + encodeForClient(id), null);
        assertEquals(200, options.status(), options.body());
    }

    /**
     * The id as a client puts it in a URL: characters that RFC 3986 does not allow in a path
     * segment percent-encoded (the server decodes the path).
     */
    private static String encodeForClient(String id) {
        StringBuilder sb = new StringBuilder();
        for (char c : id.toCharArray()) {
            if ("\"<>[]{}|^`".indexOf(c) >= 0) {
                sb.append(String.format("%%%02X", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
