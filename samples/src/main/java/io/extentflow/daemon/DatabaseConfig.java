package io.extentflow.daemon;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/**
 * Where the fleet's PostgreSQL database is, {@code postgresql://USER@HOST:PORT/DB}, and the password
 * to log in with. The password never comes from the address (addresses show in {@code ps} and in
 * logs): the caller reads it from {@code EXTENTFLOW_DB_PASSWORD} or a file. {@link #toString()}
 * leaves it out.
 *
 * @param user           role to log in as
 * @param host           host name or address
 * @param port           TCP port (5432 when the address names none)
 * @param database       database name
 * @param password       password, or null for a server that asks none (trust, peer)
 * @param connectTimeout how long a connection may take before it counts as unreachable
 */
public record DatabaseConfig(String user, String host, int port, String database, String password,
                             Duration connectTimeout) {

    /** The environment variable holding the database password. */
    public static final String PASSWORD_VARIABLE = "EXTENTFLOW_DB_PASSWORD";

    public DatabaseConfig {
        if (user == null || user.isEmpty() || host == null || host.isEmpty() || database == null
                || database.isEmpty()) {
            throw new IllegalArgumentException("a jobs database needs a user, a host and a database name");
        }
        if (port <= 0 || port > 65535) {
            throw new IllegalArgumentException("jobs database port " + port + " is out of range");
        }
    }

    /**
     * Parses {@code postgresql://USER@HOST[:PORT]/DB} (also {@code postgres://}); fails with one line
     * on anything else, and on a password in the address.
     */
    public static DatabaseConfig parse(String address, String password) {
        URI uri;
        try {
            uri = new URI(address);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("'" + address + "' is not a jobs database address: " + e.getReason());
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equals("postgresql") || scheme.equals("postgres"))) {
            throw new IllegalArgumentException("'" + address + "' is not a jobs database address; expected "
                    + "postgresql://USER@HOST:PORT/DB");
        }
        String userInfo = uri.getUserInfo();
        if (userInfo != null && userInfo.contains(":")) {
            throw new IllegalArgumentException("the jobs database address holds a password; give it in "
                    + PASSWORD_VARIABLE + " or a file (--jobs-db-password-file), never on the command line");
        }
        String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        if (userInfo == null || uri.getHost() == null || path.isEmpty() || path.contains("/")) {
            throw new IllegalArgumentException("'" + address + "' is not a jobs database address; expected "
                    + "postgresql://USER@HOST:PORT/DB");
        }
        return new DatabaseConfig(userInfo, uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), path,
                password, Duration.ofSeconds(5));
    }

    /** The address, without the password. */
    public String address() {
        return "postgresql://" + user + "@" + host + ":" + port + "/" + database;
    }

    @Override
    public String toString() {
        return address();
    }
}
