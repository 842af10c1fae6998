package io.extentflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The commands' one JSON mapper, made on first use: setting up an {@code ObjectMapper} takes some
 * 40 ms (date formats, locale data), which a command that prints no JSON should not pay.
 */
final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }
}
