package io.extentflow.engine.nbd.message;

import java.nio.charset.StandardCharsets;

/**
 * One reply of the server to an option: the echoed option, the reply type and its data.
 *
 * @param option the option this answers
 * @param type   {@link NbdProtocol#REP_ACK}, {@link NbdProtocol#REP_INFO}, ... or an error type (bit 31)
 * @param data   the reply's data (not copied; do not change it)
 */
public record OptionReply(int option, int type, byte[] data) {

    /** An error reply: bit 31 of the type is set. */
    public boolean isError() {
        return (type & NbdProtocol.REP_FLAG_ERROR) != 0;
    }

    /** The last reply to an option: an ACK or an error. */
    public boolean isFinal() {
        return type == NbdProtocol.REP_ACK || isError();
    }

    /** The data as text (error replies may carry a message). */
    public String text() {
        return new String(data, StandardCharsets.UTF_8);
    }
}
