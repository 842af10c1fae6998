package io.extentflow.daemon;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.cookie.Cookie;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Set;
import reactor.netty.http.server.HttpServerRequest;

/**
 * The jobs API's bearer token check. Clients send {@code Authorization: Bearer <token>}. The status
 * page's {@code EventSource} cannot send headers, so reads ({@code GET}) also accept the token in the
 * {@value #COOKIE} cookie, which the page sets for path {@code /v1} with {@code SameSite=Strict}; a
 * cookie never authorises a change ({@code POST}, {@code DELETE}), so another site cannot make a
 * browser start or cancel copies. Tokens are never taken from URLs, which end up in logs and
 * browser history.
 */
final class Auth {

    static final String COOKIE = "extentflow_token";

    private final byte[] token;

    /** {@code token} null: every request is refused. */
    Auth(String token) {
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    /** Passes, or throws a 401 (or 403 when no token is configured). */
    void check(HttpServerRequest req) {
        if (token == null) {
            throw new BadRequest(403, "the jobs API is disabled: no token configured "
                    + "(start the daemon with --token-file or EXTENTFLOW_TOKEN)");
        }
        String header = req.requestHeaders().get(HttpHeaderNames.AUTHORIZATION);
        if (header != null) {
            if (header.regionMatches(true, 0, "Bearer ", 0, 7) && matches(header.substring(7).trim())) {
                return;
            }
            throw new BadRequest(401, "wrong token");
        }
        if (req.method().name().equals("GET")) {
            for (Cookie c : req.cookies().getOrDefault(COOKIE, Set.of())) {
                if (matches(decoded(c.value()))) {
                    return;
                }
            }
        }
        throw new BadRequest(401, "missing token: send 'Authorization: Bearer <token>'");
    }

    /** The page sets the cookie with {@code encodeURIComponent}. */
    private static String decoded(String value) {
        try {
            return java.net.URLDecoder.decode(value, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return value;
        }
    }

    private boolean matches(String given) {
        return MessageDigest.isEqual(token, given.getBytes(StandardCharsets.UTF_8));
    }
}
