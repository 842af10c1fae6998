package io.extentflow.engine.endpoint;

import java.net.URI;
import java.nio.file.Path;

/** Local file addresses: a plain path, or a {@code file:} URI. */
public final class FileAddress {

    private FileAddress() {
    }

    /** True for a {@code file:} URI or anything that is not a {@code scheme://} URI. */
    public static boolean isFile(String address) {
        if (address.startsWith("file:")) {
            return true;
        }
        int colon = address.indexOf("://");
        if (colon <= 0) {
            return true;
        }
        String scheme = address.substring(0, colon);
        return !scheme.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '+' || c == '-' || c == '.');
    }

    /** The path of a file address. */
    public static Path toPath(String address) {
        if (address.startsWith("file:")) {
            return Path.of(URI.create(address));
        }
        return Path.of(address);
    }
}
